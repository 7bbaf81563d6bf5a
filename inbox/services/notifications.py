"""The bell: notices are created by the timers (a breach); people read them."""

from datetime import datetime

from clinic.models import Clinic
from inbox.models import Conversation, Notification


def notifications_mark_read(*, user: object, clinic: Clinic, now: datetime,
                            conversation: Conversation | None = None) -> int:
    """Mark the user's unread notices read: all of them, or those about one conversation
    (opening it is reading them)."""
    unread = Notification.objects.filter(user=user, clinic=clinic, read_at__isnull=True)
    if conversation is not None:
        unread = unread.filter(conversation=conversation)
    return unread.update(read_at=now)
