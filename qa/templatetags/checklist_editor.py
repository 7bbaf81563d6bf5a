"""Tags of the checklist editor's pages (qa/editor.py), and the scorecard page's offer to
score the dialogue again with the clinic's newer checklist."""

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext

from qa.selectors import checklist_revision_current
from qa.services.scoring import revision_order

register = template.Library()


@register.filter
def item_description(item: Any) -> str:
    """The default items' descriptions are English msgids (qa.checklist marks them)."""
    return gettext(item.description) if item.description else ""


@register.filter
def plain_number(value: Decimal) -> str:
    """A weight without trailing zeros, in the reader's format: 2.50 -> "2,5", 1.00 -> "1"."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return number_format(value.quantize(Decimal(1)))
    return number_format(value.normalize())


@register.inclusion_tag("qa/checklist_rescore.html", takes_context=True)
def rescore_offer(context: template.Context) -> dict[str, Any]:
    """For a manager on a current scorecard scored with an older revision than the clinic's
    current one: a button to score it again with that one (qa:rescore). Nothing otherwise."""
    scorecard = context["scorecard"]
    newer = None
    if context.get("is_manager") and scorecard.is_current:
        current = checklist_revision_current(clinic=context["request"].clinic)
        if revision_order(current) > revision_order(scorecard.revision):
            newer = current
    return {"scorecard": scorecard, "newer": newer}
