"""The quality pages' forms: the scorecard list's filters, and a manager's override."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic
from inbox.models import ChannelKind
from qa.models import AckState, ItemResult, ReviewState
from qa.selectors import ScorecardFilters, checklist_revision_current

COMMENT_MAX = 2000


def _date_input() -> forms.DateInput:
    # An <input type=date> takes and gives ISO dates whatever the page's language.
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class ScorecardFilterForm(forms.Form):
    """GET filters of the manager's list and the CSV export; every field optional. Dates are
    the clinic's calendar days, both included."""

    queue = forms.BooleanField(label=_("Review queue"), required=False)
    administrator = forms.TypedChoiceField(label=_("Administrator"), required=False,
                                           coerce=int, empty_value=None)
    date_from = forms.DateField(label=_("From"), required=False, widget=_date_input())
    date_to = forms.DateField(label=_("To"), required=False, widget=_date_input())
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    score_min = forms.DecimalField(label=_("Score from"), required=False, min_value=0,
                                   max_value=100, decimal_places=1)
    score_max = forms.DecimalField(label=_("Score to"), required=False, min_value=0,
                                   max_value=100, decimal_places=1)
    failed_item = forms.ChoiceField(label=_("Failed item"), required=False)
    review_state = forms.ChoiceField(label=_("Review"), required=False)
    ack_state = forms.ChoiceField(label=_("Administrator's answer"), required=False)

    def __init__(self, *args: object, clinic: Clinic, staff: list, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        anyone = [("", _("Any"))]
        self.fields["administrator"].choices = anyone + [
            (m.user_id, m.user.get_full_name() or m.user.username) for m in staff]
        self.fields["channel"].choices = anyone + list(ChannelKind.choices)
        revision = checklist_revision_current(clinic=clinic)
        self.fields["failed_item"].choices = anyone + [
            (item.code, gettext(item.title)) for item in revision.items.all()]
        self.fields["review_state"].choices = anyone + list(ReviewState.choices)
        self.fields["ack_state"].choices = anyone + list(AckState.choices)

    def filters(self) -> ScorecardFilters:
        """The selector's filters from the valid fields (an invalid one is left out and its
        error shown)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        tz = ZoneInfo(self.clinic.timezone)

        def day_start(day: object) -> datetime | None:
            return datetime.combine(day, time(), tz) if day else None

        date_to = data.get("date_to")
        queue = bool(data.get("queue"))
        score_min: Decimal | None = data.get("score_min")
        score_max: Decimal | None = data.get("score_max")
        return ScorecardFilters(
            administrator_id=data.get("administrator"),
            scored_from=day_start(data.get("date_from")),
            scored_to=day_start(date_to + timedelta(days=1)) if date_to else None,
            channel_kind=data.get("channel") or "",
            score_min=score_min, score_max=score_max,
            failed_item=data.get("failed_item") or "",
            review_state=ReviewState.TO_REVIEW if queue else data.get("review_state") or "",
            in_review_queue=True if queue else None,
            ack_state=data.get("ack_state") or "",
        )


class OverrideForm(forms.Form):
    """A manager's verdict on one item: the result, a reason from the clinic's list, a
    comment."""

    result = forms.ChoiceField(label=_("Result"), choices=ItemResult.choices,
                               widget=forms.RadioSelect)
    reason = forms.ChoiceField(label=_("Reason"))
    comment = forms.CharField(label=_("Comment"), required=False, max_length=COMMENT_MAX,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: object, reasons: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [(r, r) for r in reasons]


class CommentForm(forms.Form):
    """The administrator's acknowledgement or dispute, or a manager's answer to a dispute;
    whether a comment is required is the service's rule."""

    comment = forms.CharField(label=_("Comment"), required=False, max_length=COMMENT_MAX,
                              widget=forms.Textarea(attrs={"rows": 3}))
