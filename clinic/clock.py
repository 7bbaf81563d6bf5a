"""The one place that reads the wall clock. Domain code takes `now=` instead."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
