"""What the core tells the apps built on it, without importing them (they depend on clinic,
never the other way round). Receivers connect in their AppConfig.ready()."""

from django.dispatch import Signal

clinic_created = Signal()
"""`clinic_create` made a clinic. Keyword argument: `clinic`.

Sent inside the creating transaction, so what receivers set up for the new clinic (the quality
app's default checklist) is created with it or not at all.
"""
