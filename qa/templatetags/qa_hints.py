"""The engine's reasons are English templates with values beside them: translate, then fill."""

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag
def hint_text(hint: object) -> str:
    """A draft hint or a verdict's reason in the user's language (auto-escaped by the caller's
    template, since the values may quote the patient's or the administrator's words)."""
    return gettext(hint.why).format(**hint.params)
