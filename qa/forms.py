"""The quality pages' forms: the scorecard list's filters, a manager's override, and the
owner's checklist editor with the quality settings."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic, NameStyle
from inbox.models import ChannelKind
from qa.models import (
    AckState,
    ChecklistItem,
    ChecklistRevision,
    ItemResult,
    QaSettings,
    ReviewState,
)
from qa.selectors import ScorecardFilters, checklist_revision_current
from qa.services.access import QaRefused
from qa.services.review import COMMENT_MAX
from qa.services.revisions import PARAMETERS, WEIGHT_MAX


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


# --- The owner's checklist editor and the quality settings (qa/editor.py) -------------------

PARAMETER_LABELS = {
    "minutes": _("Within, working minutes"),
    "name_style": _("Address the patient by"),
    "emoji_limit": _("Emoji per message, at most"),
    "stop_words": _("Stop-words, one per line"),
    "dictionary": _("Dictionary words, one per line"),
}
MINUTES_SETTING = {"first_reply_time": "first_reply_minutes", "reply_time": "reply_minutes",
                   "promise_kept": "promise_minutes"}


def parameter_default(*, clinic: Clinic, code: str, name: str) -> Any:
    """What an item's parameter is when the revision leaves it out: the clinic's response
    standard, as qa.services.scoring.rules_build reads it (the dictionary has no standard: the
    doctors' and services' names are added to it anyway)."""
    if name == "minutes":
        return getattr(clinic, MINUTES_SETTING[code])
    if name == "dictionary":
        return []
    return getattr(clinic, name)


def parameter_shown(name: str, value: Any) -> str:
    """A parameter's value as a person reads it."""
    if name == "name_style":
        return str(dict(NameStyle.choices).get(value, value))
    if isinstance(value, list | tuple):
        return ", ".join(value) if value else gettext("none")
    return str(value)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _plain(number: Decimal) -> str:
    """2.50 -> "2.5", 1.00 -> "1": a weight as the owner typed it."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass
class ItemRow:
    """One row of the editor: the item and its bound fields."""

    item: ChecklistItem
    enabled: forms.BoundField
    weight: forms.BoundField
    critical: forms.BoundField
    parameters: list[forms.BoundField]


class ChecklistForm(forms.Form):
    """Every item of the revision the owner edits: enabled, weight, critical and the item's
    parameters (qa.services.revisions.PARAMETERS), field names prefixed by the item's code.
    An empty parameter follows the clinic's response standard. `base_revision` is the revision
    the page showed: saving over a newer one is refused (it would undo its changes)."""

    base_revision = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, revision: ChecklistRevision, clinic: Clinic,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.revision, self.clinic = revision, clinic
        self.items = list(revision.items.all())
        self.fields["base_revision"].initial = revision.pk
        for item in self.items:
            code = item.code
            self.fields[f"{code}-enabled"] = forms.BooleanField(
                label=pgettext_lazy("checklist item", "Enabled"), required=False,
                initial=item.enabled)
            self.fields[f"{code}-weight"] = forms.DecimalField(
                label=_("Weight"), decimal_places=2, initial=_plain(item.weight),
                widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01",
                                                "max": str(WEIGHT_MAX)}))
            self.fields[f"{code}-critical"] = forms.BooleanField(
                label=_("Critical"), required=False, initial=item.critical)
            for name in PARAMETERS.get(code, {}):
                self.fields[f"{code}-{name}"] = self._parameter_field(item, name)

    def _parameter_field(self, item: ChecklistItem, name: str) -> forms.Field:
        default = parameter_default(clinic=self.clinic, code=item.code, name=name)
        value = item.parameters.get(name)
        label = PARAMETER_LABELS[name]
        if name == "name_style":
            standard = gettext("As in the response standards (%(value)s)") % {
                "value": parameter_shown(name, default)}
            return forms.ChoiceField(label=label, required=False, initial=value or "",
                                     choices=[("", standard), *NameStyle.choices])
        if name in ("stop_words", "dictionary"):
            if name == "stop_words":
                help_text = gettext("Empty: the clinic's list from the response standards "
                                    "(%(words)s).") % {"words": parameter_shown(name, default)}
            else:
                help_text = gettext("Doctors' and services' names are added to the dictionary "
                                    "automatically.")
            return forms.CharField(label=label, required=False, help_text=help_text,
                                   initial="\n".join(value or []),
                                   widget=forms.Textarea(attrs={"rows": 4}))
        low, high = (0, 50) if name == "emoji_limit" else (1, 24 * 60)
        return forms.IntegerField(
            label=label, required=False, initial=value,
            help_text=gettext("Empty: %(value)s, as in the response standards.")
            % {"value": default},
            widget=forms.NumberInput(attrs={"min": low, "max": high,
                                            "placeholder": str(default)}))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for item in self.items:
            weight = data.get(f"{item.code}-weight")
            if weight is not None and not Decimal(0) < weight <= WEIGHT_MAX:
                self.add_error(f"{item.code}-weight",
                               gettext("A weight must be above 0 and at most %(max)s.")
                               % {"max": WEIGHT_MAX})
            for name, check in PARAMETERS.get(item.code, {}).items():
                key = f"{item.code}-{name}"
                if key not in data:
                    continue  # the field's own error is shown
                value = data[key]
                if isinstance(value, str) and name in ("stop_words", "dictionary"):
                    value = _lines(value)
                if value in (None, "", []):
                    data[key] = None  # follows the clinic's standard
                    continue
                try:
                    data[key] = check(value)
                except QaRefused as refused:
                    self.add_error(key, str(refused))
        if not any(data.get(f"{item.code}-enabled") for item in self.items):
            raise forms.ValidationError(
                gettext("At least one item of the checklist must be enabled."))
        return data

    def rows(self) -> list[ItemRow]:
        return [ItemRow(item=item, enabled=self[f"{item.code}-enabled"],
                        weight=self[f"{item.code}-weight"],
                        critical=self[f"{item.code}-critical"],
                        parameters=[self[f"{item.code}-{name}"]
                                    for name in PARAMETERS.get(item.code, {})])
                for item in self.items]

    def changes(self) -> dict[str, dict[str, Any]]:
        """{code: {setting: new value}} for what differs from the revision shown, as
        checklist_revision_save takes it."""
        data = self.cleaned_data
        changes: dict[str, dict[str, Any]] = {}
        for item in self.items:
            code = item.code
            change: dict[str, Any] = {}
            if data[f"{code}-enabled"] != item.enabled:
                change["enabled"] = data[f"{code}-enabled"]
            if data[f"{code}-critical"] != item.critical:
                change["critical"] = data[f"{code}-critical"]
            if data[f"{code}-weight"] != Decimal(item.weight):
                change["weight"] = data[f"{code}-weight"]
            parameters = {name: data[f"{code}-{name}"] for name in PARAMETERS.get(code, {})
                          if data[f"{code}-{name}"] is not None}
            if parameters != item.parameters:
                change["parameters"] = parameters
            if change:
                changes[code] = change
        return changes


class QaSettingsForm(forms.Form):
    """The review queue's rule and the reasons a manager picks when overriding a verdict."""

    review_threshold = forms.IntegerField(
        label=_("Review every scorecard below, points"), min_value=0, max_value=100)
    review_share = forms.IntegerField(
        label=_("And this share of the rest, %"), min_value=0, max_value=100,
        help_text=_("Picked at random, so good dialogues are looked at too."))
    override_reasons = forms.CharField(
        label=_("Reasons for overriding a verdict, one per line"), required=False,
        widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args: Any, settings: QaSettings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial = {"review_threshold": settings.review_threshold,
                        "review_share": settings.review_share,
                        "override_reasons": "\n".join(settings.override_reasons)}

    def clean_override_reasons(self) -> list[str]:
        reasons = _lines(self.cleaned_data["override_reasons"])
        if not reasons:
            raise forms.ValidationError(
                gettext("Keep at least one reason for overriding a verdict."))
        return reasons


class RescoreForm(forms.Form):
    """The revision a manager re-scores a scorecard with: one of the clinic's."""

    revision = forms.ModelChoiceField(queryset=ChecklistRevision.objects.none())

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["revision"].queryset = ChecklistRevision.objects.filter(clinic=clinic)
