"""Configuring channels. Changes are versioned like every clinic setting; secrets are masked."""

from datetime import datetime
from typing import Any

from django.db import transaction

from clinic.models import ClinicSettingChange
from inbox.channels import adapter_for
from inbox.models import Channel

SECRET_FIELDS = ("bot_token", "webhook_secret", "access_token", "app_secret", "verify_token")


def secret_mask(value: str) -> str:
    """What people may see of a saved secret: that it is set, and its last four characters."""
    if not value:
        return ""
    return "••••" + value[-4:] if len(value) > 8 else "••••"


def _shown(field: str, value: Any) -> Any:
    return secret_mask(value) if field in SECRET_FIELDS else value


def channel_save(*, channel: Channel, changes: dict[str, Any], changed_by: Any,
                 now: datetime) -> Channel:
    """Create or update a channel; an empty secret in `changes` keeps the saved one."""
    changes = {k: v for k, v in changes.items() if not (k in SECRET_FIELDS and not v)}
    with transaction.atomic():
        creating = channel.pk is None
        if not creating:  # the saved values, not those a form may have put on the instance
            channel = Channel.objects.select_for_update().get(pk=channel.pk)
        records = []
        for field, new in changes.items():
            old = None if creating else getattr(channel, field)
            if old == new:
                continue
            setattr(channel, field, new)
            records.append((field, old, new))
        channel.save()
        ClinicSettingChange.objects.bulk_create([
            ClinicSettingChange(clinic_id=channel.clinic_id, changed_by=changed_by,
                                changed_at=now, field=f"channel:{channel.pk}:{field}",
                                old_value=_shown(field, old), new_value=_shown(field, new))
            for field, old, new in records])
    return channel


def telegram_webhook_register(*, channel: Channel, url: str) -> None:
    """Point the bot's webhook at us, with our secret, for the updates we handle."""
    adapter_for(channel.kind).register_webhook(channel, url)
