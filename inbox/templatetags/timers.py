"""`{% countdown conversation now timezone %}`: a waiting conversation's reply clock, which
static/js/timers.js keeps ticking (green, amber in the last minute, red "overdue by N min")."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inbox.models import Conversation

register = template.Library()

COUNTDOWN_SECONDS = 3600  # further away than this, the due time is shown as a time of day
AMBER_SECONDS = 60


def countdown_text(seconds_left: float, due: datetime) -> tuple[str, str]:
    """(state, text) for a reply due in `seconds_left` (negative: overdue)."""
    if seconds_left <= 0:
        late = int(-seconds_left)
        if late < 60:
            return "overdue", _("overdue by %(n)s s") % {"n": late}
        return "overdue", _("overdue by %(n)s min") % {"n": late // 60}
    if seconds_left > COUNTDOWN_SECONDS:
        return "ok", _("reply by %(when)s") % {
            "when": formats.date_format(due, "D H:i")}
    left = int(seconds_left)
    state = "soon" if left <= AMBER_SECONDS else "ok"
    return state, f"{left // 60}:{left % 60:02d}"


RULE_TITLES = {"first_reply": gettext_lazy("First reply"), "reply": gettext_lazy("Reply"),
               "promise": gettext_lazy("Promised answer")}


@register.simple_tag
def countdown(conversation: Conversation, now: datetime, timezone: str) -> str:
    """The clock of a waiting conversation ("" when it waits for nothing). Built in Python, not
    from a template: the list draws one per waiting row."""
    due = conversation.reply_due_at
    if due is None:
        return ""
    local_due = due.astimezone(ZoneInfo(timezone))
    state, text = countdown_text((due - now).total_seconds(), local_due)
    return format_html('<span class="countdown countdown-{}" data-due="{}" role="timer" '
                       'title="{}">{}</span>', state, int(due.timestamp()),
                       RULE_TITLES.get(conversation.waiting_rule, ""), text)


@register.filter
def duration(seconds: float | None) -> str:
    """3725 -> "1 h 02 min", 125 -> "2 min 05 s", None -> "—"."""
    if seconds is None:
        return "—"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)s h %(m)02d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)s min %(s)02d s") % {"m": minutes, "s": secs}
    return _("%(s)s s") % {"s": secs}
