"""What scheduling tells the apps built on it, without importing them (they depend on
scheduling, never the other way round). Receivers connect in their AppConfig.ready()."""

from django.dispatch import Signal

appointment_changed = Signal()
"""An appointment was booked, moved or cancelled. Keyword argument: `appointment_id`.

Sent after the change commits (`transaction.on_commit`, `send_robust`), so a failing receiver
never undoes or breaks the booking itself.
"""
