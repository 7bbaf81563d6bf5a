"""Filters for the quality pages: an item's title and reason in the reader's language.

Titles and reasons of the default checklist are English msgids (qa.checklist marks them);
a reason's values travel in `item.params` and are filled in after translation. The result is
plain text: the template escapes it (values can quote what a patient or an administrator
wrote).
"""

from typing import Any

from django import template
from django.utils.translation import gettext

from inbox.models import ChannelKind

register = template.Library()


class _Params(dict):
    """Leaves a placeholder as it is when the stored params lack it."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@register.filter
def item_title(item: Any) -> str:
    return gettext(item.title) if item.title else item.code


@register.filter
def item_reason(item: Any) -> str:
    """gettext(item.why).format(**item.params), never failing on a stray brace. A list value
    is a list of msgids (the parts a first answer lacks): each is translated, then joined."""
    if not item.why:
        return ""
    params = _Params({key: ", ".join(gettext(str(v)) for v in value)
                      if isinstance(value, list) else value
                      for key, value in (item.params or {}).items()})
    try:
        return gettext(item.why).format_map(params)
    except (ValueError, IndexError, AttributeError):
        return item.why



@register.filter
def channel_label(kind: str) -> str:
    """"telegram" -> "Telegram", "webchat" -> the translated "Website chat"."""
    return str(dict(ChannelKind.choices).get(kind, kind))
