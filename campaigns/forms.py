"""The owner's campaign forms: a rule in human terms ("2 days before the visit", channels in
order, a text per language and channel), the clinic's campaign settings, and the delivery log's
filters.

The rule form knows which settings a kind of rule uses (a recall has months and attempts, a
reminder has steps before the visit, a birthday has neither) and shows and checks only those;
`rule_fields()` gives the rest unchanged, so a save never loses a setting the page did not show.
"""

import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from campaigns.models import (
    CampaignSettings,
    Confirmation,
    DispatchStatus,
    Rule,
    RuleKind,
    SkipReason,
)
from campaigns.services.rules import (
    BIRTHDAY_EN,
    BIRTHDAY_RU,
    DAY,
    FOLLOW_UP_EN,
    FOLLOW_UP_RU,
    HOUR,
    RECALL_EN,
    RECALL_RU,
    REMINDER_EN,
    REMINDER_RU,
)
from campaigns.texts import LANGUAGES, VARIABLES, VISIT_VARIABLES, unknown_variables
from clinic.models import Channel as ChannelChoice
from clinic.models import Clinic
from clinic.selectors import MESSAGE_CHANNELS

MAX_STEPS = 4
CHANNEL_SLOTS = len(MESSAGE_CHANNELS)
TEXT_MAX = 4000  # below Telegram's and WhatsApp's 4096, with room for the filled-in names
UNITS = {"days": DAY, "hours": HOUR, "minutes": 1}
UNIT_CHOICES = [("days", _("days")), ("hours", _("hours")), ("minutes", _("minutes"))]
BEFORE, AFTER = "before", "after"
DIRECTION_CHOICES = [(BEFORE, _("before the visit")), (AFTER, _("after the visit"))]
MAX_STEP_MINUTES = 90 * DAY
LANGUAGE_LABELS = {"ru": _("Russian"), "en": _("English")}
CHANNEL_LABELS = dict(ChannelChoice.choices)

BEFORE_VISIT = (RuleKind.REMINDER, RuleKind.CONFIRMATION)
AFTER_VISIT = (RuleKind.FOLLOW_UP, RuleKind.PLAN_ADHERENCE, RuleKind.EDUCATION)
"""Filled only in messages about a booked visit (reminders and confirmation requests)."""

OFFER = re.compile(r"(?<!\w)(скидк|акци|подар|предложени|discount|offer)|%", re.IGNORECASE)
"""A birthday greeting sells nothing: these words (and any per cent) are refused."""

PLAN_RU = ("{patient_first_name}, здравствуйте! Это {clinic_name}. Напоминаем о следующем этапе "
           "вашего плана лечения. Ответьте на это сообщение, и мы подберём удобное время.")
PLAN_EN = ("Hello {patient_first_name}, this is {clinic_name}. A reminder of the next step of "
           "your treatment plan. Reply to this message and we will find a convenient time.")
KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    RuleKind.REMINDER: {"steps": [-2 * DAY, -2 * HOUR], "ask_confirmation": True,
                        "do_not_send_within": 60,
                        "texts": {"ru": {"": REMINDER_RU}, "en": {"": REMINDER_EN}}},
    RuleKind.CONFIRMATION: {"steps": [-DAY], "do_not_send_within": 60,
                            "texts": {"ru": {"": REMINDER_RU}, "en": {"": REMINDER_EN}}},
    RuleKind.RECALL: {"interval_months": 6, "max_attempts": 1, "attempt_gap_days": 14,
                      "texts": {"ru": {"": RECALL_RU}, "en": {"": RECALL_EN}}},
    RuleKind.FOLLOW_UP: {"steps": [DAY],
                         "texts": {"ru": {"": FOLLOW_UP_RU}, "en": {"": FOLLOW_UP_EN}}},
    RuleKind.PLAN_ADHERENCE: {"steps": [14 * DAY],
                              "texts": {"ru": {"": PLAN_RU}, "en": {"": PLAN_EN}}},
    RuleKind.BIRTHDAY: {"steps": [0],
                        "texts": {"ru": {"": BIRTHDAY_RU}, "en": {"": BIRTHDAY_EN}}},
    RuleKind.EDUCATION: {"steps": [7 * DAY], "channel_order": ["email"], "texts": {}},
}

KIND_DESCRIPTIONS = {
    RuleKind.REMINDER: _("Before a booked visit, in one or more steps (say 2 days and 2 hours "
                         "before); may ask the patient to confirm."),
    RuleKind.CONFIRMATION: _("Asks the patient to confirm a booked visit or cancel it."),
    RuleKind.RECALL: _("Invites the patient back some months after their last visit of the "
                       "chosen services, unless they have booked; up to three attempts."),
    RuleKind.FOLLOW_UP: _("Asks how the patient feels some days after a complex treatment, "
                          "unless they have booked themselves."),
    RuleKind.PLAN_ADHERENCE: _("Reminds the patient of the next step of their treatment plan."),
    RuleKind.BIRTHDAY: _("Congratulates the patient on their birthday, without any offer."),
    RuleKind.EDUCATION: _("Useful reading after a visit, by e-mail only."),
}


def rule_draft(*, clinic: Clinic, kind: str) -> Rule:
    """A new rule of `kind` with its starting settings (not saved)."""
    return Rule(clinic=clinic, kind=kind, name=str(RuleKind(kind).label), revision=0,
                **KIND_DEFAULTS[kind])


# --- How a rule reads ---------------------------------------------------------------------------

AMOUNT_WORDS = {
    "days": ngettext_lazy("%(n)d day", "%(n)d days", "n"),
    "hours": ngettext_lazy("%(n)d hour", "%(n)d hours", "n"),
    "minutes": ngettext_lazy("%(n)d minute", "%(n)d minutes", "n"),
}


def step_parts(minutes: int) -> tuple[int, str, str]:
    """An offset in minutes as (amount, unit, direction) in the largest whole unit."""
    direction = BEFORE if minutes < 0 else AFTER
    size = abs(minutes)
    for unit, per in UNITS.items():
        if size % per == 0:
            return size // per, unit, direction
    raise AssertionError("unreachable: minutes divide by 1")


def steps_text(steps: list[int]) -> str:
    """"2 days, 2 hours before the visit"; "1 day after the visit"."""
    before = [str(AMOUNT_WORDS[unit] % {"n": n})
              for n, unit, _d in map(step_parts, sorted(m for m in steps if m < 0))]
    after = [str(AMOUNT_WORDS[unit] % {"n": n})
             for n, unit, _d in map(step_parts, sorted(m for m in steps if m >= 0))]
    parts = []
    if before:
        parts.append(gettext("%(steps)s before the visit") % {"steps": ", ".join(before)})
    if after:
        parts.append(gettext("%(steps)s after the visit") % {"steps": ", ".join(after)})
    return "; ".join(parts)


def rule_summary(rule: Rule) -> str:
    """When the rule sends, in a few words: "2 days before, 2 hours before"."""
    if rule.kind == RuleKind.RECALL:
        text = str(ngettext_lazy("%(n)d month after the last visit",
                                 "%(n)d months after the last visit", "n")
                   % {"n": rule.interval_months})
        if rule.max_attempts > 1:
            text += ", " + str(ngettext_lazy("%(n)d attempts, %(gap)d days apart",
                                             "%(n)d attempts, %(gap)d days apart", "n")
                               % {"n": rule.max_attempts, "gap": rule.attempt_gap_days})
        return text
    if rule.kind == RuleKind.BIRTHDAY:
        return gettext("on the birthday")
    return steps_text(rule.steps) or "—"


# --- The rule form ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    """Which settings a kind of rule uses."""

    steps: str  # BEFORE, AFTER or "" (no steps)
    recall: bool
    services: bool
    confirmation: bool
    channels: bool
    transactional: bool


def kind_shape(kind: str) -> Shape:
    return Shape(
        steps=BEFORE if kind in BEFORE_VISIT else AFTER if kind in AFTER_VISIT else "",
        recall=kind == RuleKind.RECALL,
        services=kind != RuleKind.BIRTHDAY,
        confirmation=kind == RuleKind.REMINDER,
        channels=kind != RuleKind.EDUCATION,
        transactional=kind in BEFORE_VISIT,
    )


def kind_variables(kind: str) -> list[str]:
    """The variables a message of this kind can use (a visit's only in one about a visit)."""
    transactional = kind_shape(kind).transactional
    return [v for v in VARIABLES if transactional or v not in VISIT_VARIABLES]


class RuleForm(forms.Form):
    """A rule's settings as an owner thinks of them; `rule_fields()` gives the model's values."""

    name = forms.CharField(label=_("Name"), max_length=200)
    ask_confirmation = forms.BooleanField(
        label=_("Ask the patient to confirm (yes / no buttons where the channel has them)"),
        required=False)
    do_not_send_within = forms.IntegerField(
        label=_("Do not send when the visit was booked less than this many minutes before "
                "the message"), min_value=0, max_value=7 * DAY, required=False)
    interval_months = forms.IntegerField(label=_("Months after the last visit"), min_value=1,
                                         max_value=60)
    max_attempts = forms.IntegerField(label=_("Attempts"), min_value=1, max_value=3,
                                      help_text=_("The 2nd and 3rd go only if the patient has "
                                                  "not booked in between."))
    attempt_gap_days = forms.IntegerField(label=_("Days between attempts"), min_value=1,
                                          max_value=180)
    services = forms.TypedMultipleChoiceField(
        label=_("Services"), coerce=int, required=False,
        help_text=_("None chosen: every service."))
    doctors = forms.TypedMultipleChoiceField(
        label=_("Doctors"), coerce=int, required=False, help_text=_("None chosen: every doctor."))
    age_min = forms.IntegerField(label=_("Age from"), min_value=0, max_value=120, required=False)
    age_max = forms.IntegerField(label=_("Age up to"), min_value=0, max_value=120, required=False)
    last_visit_within_days = forms.IntegerField(
        label=_("Last visit within, days"), min_value=1, max_value=3650, required=False,
        help_text=_("Empty: whenever the last visit was."))
    whatsapp_template = forms.ChoiceField(
        label=_("WhatsApp template"), required=False,
        help_text=_("Sent when more than 24 hours have passed since the patient last wrote on "
                    "WhatsApp."))
    whatsapp_params = forms.CharField(
        label=_("Template parameters"), required=False, max_length=500,
        help_text=_("Variable names in the template's order, separated by commas, e.g. "
                    "patient_first_name, visit_time."))

    def __init__(self, *args: Any, rule: Rule, services: list, doctors: list,
                 templates: dict[str, list[str]], **kwargs: Any) -> None:
        self.rule = rule
        self.kind = RuleKind(rule.kind)
        self.shape = kind_shape(rule.kind)
        self.templates = templates
        kwargs.setdefault("initial", self._initial(rule))
        super().__init__(*args, **kwargs)
        for i in range(MAX_STEPS):
            self.fields[f"step_{i}_amount"] = forms.IntegerField(
                label=_("Step %(n)d") % {"n": i + 1}, min_value=0, max_value=999,
                required=False)
            self.fields[f"step_{i}_unit"] = forms.ChoiceField(choices=UNIT_CHOICES,
                                                              required=False)
            self.fields[f"step_{i}_direction"] = forms.ChoiceField(choices=DIRECTION_CHOICES,
                                                                   required=False)
        any_channel = [("", _("—"))]
        for i in range(1, CHANNEL_SLOTS + 1):
            self.fields[f"channel_{i}"] = forms.ChoiceField(
                label=_("Channel %(n)d") % {"n": i}, required=False,
                choices=any_channel + [(c, CHANNEL_LABELS[c]) for c in MESSAGE_CHANNELS])
        for language in LANGUAGES:
            self.fields[f"text_{language}"] = forms.CharField(
                label=LANGUAGE_LABELS[language], required=False, max_length=TEXT_MAX,
                widget=forms.Textarea(attrs={"rows": 5}))
            for channel in MESSAGE_CHANNELS:
                self.fields[f"text_{language}_{channel}"] = forms.CharField(
                    label=f"{LANGUAGE_LABELS[language]}, {CHANNEL_LABELS[channel]}",
                    required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}))
        self.fields["text_ru"].help_text = gettext("Variables: %(list)s") % {
            "list": ", ".join(f"{{{v}}}" for v in kind_variables(rule.kind))}
        self.fields["services"].choices = [
            (s.pk, s.name if s.active else gettext("%(name)s (not offered)") % {"name": s.name})
            for s in services]
        self.fields["doctors"].choices = [
            (d.pk, d.name if d.active else gettext("%(name)s (not working)") % {"name": d.name})
            for d in doctors]
        self.fields["whatsapp_template"].choices = [("", _("No template"))] + [
            (name, name) for name in templates]
        self._drop_unused()

    # -- what the page shows ---------------------------------------------------------------

    def _drop_unused(self) -> None:
        shape, unused = self.shape, []
        if not shape.steps:
            unused += [f"step_{i}_{p}" for i in range(MAX_STEPS)
                       for p in ("amount", "unit", "direction")]
        if not shape.recall:
            unused += ["interval_months", "max_attempts", "attempt_gap_days"]
        if not shape.services:
            unused += ["services", "doctors"]
        if not shape.confirmation:
            unused.append("ask_confirmation")
        if not shape.transactional:
            unused.append("do_not_send_within")
        if not shape.channels:
            unused += [f"channel_{i}" for i in range(1, CHANNEL_SLOTS + 1)]
            unused += ["whatsapp_template", "whatsapp_params"]
            unused += [f"text_{lang}_{c}" for lang in LANGUAGES for c in MESSAGE_CHANNELS]
        for name in unused:
            del self.fields[name]

    @staticmethod
    def _initial(rule: Rule) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": rule.name, "ask_confirmation": rule.ask_confirmation,
            "do_not_send_within": rule.do_not_send_within,
            "interval_months": rule.interval_months, "max_attempts": rule.max_attempts,
            "attempt_gap_days": rule.attempt_gap_days, "services": list(rule.service_ids),
            "doctors": list(rule.doctor_ids), "age_min": rule.age_min, "age_max": rule.age_max,
            "last_visit_within_days": rule.last_visit_within_days,
            "whatsapp_template": rule.whatsapp_template,
            "whatsapp_params": ", ".join(rule.whatsapp_params),
        }
        for i, minutes in enumerate(rule.steps[:MAX_STEPS]):
            amount, unit, direction = step_parts(minutes)
            initial.update({f"step_{i}_amount": amount, f"step_{i}_unit": unit,
                            f"step_{i}_direction": direction})
        for i in range(len(rule.steps), MAX_STEPS):  # an empty row reads the kind's way
            initial[f"step_{i}_unit"] = "hours" if rule.kind in BEFORE_VISIT else "days"
            initial[f"step_{i}_direction"] = BEFORE if rule.kind in BEFORE_VISIT else AFTER
        for i, channel in enumerate(rule.channel_order[:CHANNEL_SLOTS], start=1):
            initial[f"channel_{i}"] = channel
        for language, by_channel in (rule.texts or {}).items():
            for channel, text in (by_channel or {}).items():
                initial[f"text_{language}_{channel}" if channel else f"text_{language}"] = text
        return initial

    @property
    def step_rows(self) -> list[tuple[forms.BoundField, ...]]:
        if not self.shape.steps:
            return []
        return [(self[f"step_{i}_amount"], self[f"step_{i}_unit"], self[f"step_{i}_direction"])
                for i in range(MAX_STEPS)]

    @property
    def channel_fields(self) -> list[forms.BoundField]:
        return [self[f"channel_{i}"] for i in range(1, CHANNEL_SLOTS + 1)
                if f"channel_{i}" in self.fields]

    @property
    def text_groups(self) -> list[tuple[str, forms.BoundField, list[forms.BoundField]]]:
        """(language, its common text, its channels' own texts) for the template."""
        return [(LANGUAGE_LABELS[lang], self[f"text_{lang}"],
                 [self[f"text_{lang}_{c}"] for c in MESSAGE_CHANNELS
                  if f"text_{lang}_{c}" in self.fields]) for lang in LANGUAGES]

    # -- checks ----------------------------------------------------------------------------

    def _clean_steps(self, data: dict[str, Any]) -> list[int]:
        steps: list[int] = []
        wrong = False
        for i in range(MAX_STEPS):
            amount = data.get(f"step_{i}_amount")
            if amount is None:
                continue
            unit = data.get(f"step_{i}_unit") or "days"
            direction = data.get(f"step_{i}_direction") or self.shape.steps
            wrong = wrong or direction != self.shape.steps
            if direction != self.shape.steps:
                self.add_error(f"step_{i}_amount", gettext(
                    "This kind of message goes before the visit.") if self.shape.steps == BEFORE
                    else gettext("This kind of message goes after the visit."))
                continue
            minutes = amount * UNITS[unit]
            if direction == BEFORE and minutes == 0:
                wrong = True
                self.add_error(f"step_{i}_amount",
                               gettext("A reminder goes some time before the visit, not at it."))
                continue
            if minutes > MAX_STEP_MINUTES:
                wrong = True
                self.add_error(f"step_{i}_amount", gettext("At most 90 days."))
                continue
            steps.append(-minutes if direction == BEFORE else minutes)
        steps = sorted(set(steps))
        if not steps and not wrong and not self.has_error("step_0_amount"):
            self.add_error("step_0_amount", gettext("Give at least one step."))
        return steps

    def _clean_channels(self, data: dict[str, Any]) -> list[str]:
        order: list[str] = []
        for i in range(1, CHANNEL_SLOTS + 1):
            channel = data.get(f"channel_{i}")
            if not channel:
                continue
            if channel in order:
                self.add_error(f"channel_{i}", gettext("This channel is already in the list."))
                continue
            order.append(channel)
        return order

    def _clean_params(self, data: dict[str, Any]) -> list[str]:
        raw = data.get("whatsapp_params", "")
        params = [p.strip().strip("{}") for p in re.split(r"[,\s]+", raw) if p.strip()]
        if not params and data.get("whatsapp_template"):
            params = list(self.templates.get(data["whatsapp_template"], []))
        wrong = [p for p in params if p not in VARIABLES
                 or (p in VISIT_VARIABLES and not self.shape.transactional)]
        if wrong:
            self.add_error("whatsapp_params", gettext(
                "Unknown or unavailable variables: %(names)s.") % {"names": ", ".join(wrong)})
        return params

    def _clean_texts(self, data: dict[str, Any]) -> dict[str, dict[str, str]]:
        texts: dict[str, dict[str, str]] = {}
        for language in LANGUAGES:
            for channel in ("", *MESSAGE_CHANNELS):
                name = f"text_{language}_{channel}" if channel else f"text_{language}"
                text = (data.get(name) or "").strip()
                if name not in self.fields or not text:
                    continue
                self._check_text(name, text)
                texts.setdefault(language, {})[channel] = text
        if not any(by_channel.get("") for by_channel in texts.values()) \
                and "text_ru" not in self.errors:
            self.add_error("text_ru", gettext("Write the message, in Russian or in English."))
        return texts

    def _check_text(self, name: str, text: str) -> None:
        unknown = unknown_variables(text)
        if unknown:
            self.add_error(name, gettext("Unknown variables: %(names)s. Known: %(known)s.") % {
                "names": ", ".join(f"{{{v}}}" for v in unknown),
                "known": ", ".join(f"{{{v}}}" for v in kind_variables(self.kind))})
        if not self.shape.transactional:
            visit = sorted({v for v in VISIT_VARIABLES if f"{{{v}}}" in text})
            if visit:
                self.add_error(name, gettext(
                    "%(names)s: only a message about a booked visit has these.") % {
                    "names": ", ".join(f"{{{v}}}" for v in visit)})
        if self.kind == RuleKind.BIRTHDAY:
            offer = OFFER.search(text)
            if offer:
                self.add_error(name, gettext(
                    "A birthday greeting must not offer anything (found “%(word)s”): no "
                    "discounts, promotions, gifts or offers.") % {"word": offer.group(0)})

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.shape.steps:
            data["steps"] = self._clean_steps(data)
        age_min, age_max = data.get("age_min"), data.get("age_max")
        if age_min is not None and age_max is not None and age_min > age_max:
            self.add_error("age_max", gettext("The upper age is below the lower one."))
        if self.shape.channels:
            data["channel_order"] = self._clean_channels(data)
            data["whatsapp_params"] = self._clean_params(data)
        data["texts"] = self._clean_texts(data)
        return data

    # -- the model's values ----------------------------------------------------------------

    def rule_fields(self) -> dict[str, Any]:
        """Every setting of the rule: the form's where the page shows it, else the rule's."""
        data, rule, shape = self.cleaned_data, self.rule, self.shape
        fields: dict[str, Any] = {
            "name": data["name"], "texts": data["texts"],
            "age_min": data.get("age_min"), "age_max": data.get("age_max"),
            "last_visit_within_days": data.get("last_visit_within_days"),
            "steps": data["steps"] if shape.steps else list(rule.steps),
            "ask_confirmation": (data.get("ask_confirmation", False) if shape.confirmation
                                 else rule.ask_confirmation),
            "do_not_send_within": ((data.get("do_not_send_within") or 0) if shape.transactional
                                   else rule.do_not_send_within),
            "service_ids": data["services"] if shape.services else list(rule.service_ids),
            "doctor_ids": data["doctors"] if shape.services else list(rule.doctor_ids),
            "channel_order": (data["channel_order"] if shape.channels
                              else list(rule.channel_order)),
            "whatsapp_template": (data.get("whatsapp_template", "") if shape.channels
                                  else rule.whatsapp_template),
            "whatsapp_params": (data["whatsapp_params"] if shape.channels
                                else list(rule.whatsapp_params)),
        }
        for name in ("interval_months", "max_attempts", "attempt_gap_days"):
            fields[name] = data[name] if shape.recall else getattr(rule, name)
        if rule.kind == RuleKind.BIRTHDAY:
            fields["steps"] = [0]
        return fields

    def draft(self) -> Rule:
        """The rule as the form has it, not saved (revision 0): for the audience preview."""
        return Rule(clinic=self.rule.clinic, kind=self.kind, revision=0, enabled=False,
                    **self.rule_fields())


# --- The clinic's campaign settings ------------------------------------------------------------

def _time_input() -> forms.TimeInput:
    return forms.TimeInput(format="%H:%M", attrs={"type": "time"})


class CampaignSettingsForm(forms.ModelForm):
    """When automatic messages may go out, how often, and the clinic's order of channels."""

    class Meta:
        model = CampaignSettings
        fields = ["send_from", "send_until", "daily_cap", "weekly_cap"]
        widgets = {"send_from": _time_input(), "send_until": _time_input()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, CHANNEL_SLOTS + 1):
            self.fields[f"channel_{i}"] = forms.ChoiceField(
                label=_("Channel %(n)d") % {"n": i}, required=False,
                choices=[("", _("—"))] + [(c, CHANNEL_LABELS[c]) for c in MESSAGE_CHANNELS])
            order = self.instance.channel_order or []
            if i <= len(order):
                self.initial[f"channel_{i}"] = order[i - 1]

    @property
    def channel_fields(self) -> list[forms.BoundField]:
        return [self[f"channel_{i}"] for i in range(1, CHANNEL_SLOTS + 1)]

    @property
    def other_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.Meta.fields]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("send_from"), data.get("send_until")
        if start is not None and end is not None and start >= end:
            self.add_error("send_until", gettext("The window must end after it starts."))
        order: list[str] = []
        for i in range(1, CHANNEL_SLOTS + 1):
            channel = data.get(f"channel_{i}")
            if channel and channel in order:
                self.add_error(f"channel_{i}", gettext("This channel is already in the list."))
            elif channel:
                order.append(channel)
        if not order and not self.has_error("channel_1"):
            self.add_error("channel_1", gettext("Choose at least one channel."))
        daily, weekly = data.get("daily_cap"), data.get("weekly_cap")
        if daily is not None and weekly is not None and daily > weekly:
            self.add_error("weekly_cap",
                           gettext("A week cannot allow fewer messages than a day."))
        data["channel_order"] = order
        return data


# --- The delivery log's filters -----------------------------------------------------------------

@dataclass(frozen=True)
class LogFilters:
    rule_id: int | None = None
    status: str = ""
    reason: str = ""
    channel: str = ""
    answer: str = ""
    search: str = ""


class LogFilterForm(forms.Form):
    rule = forms.TypedChoiceField(label=_("Rule"), required=False, coerce=int,
                                  empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False)
    reason = forms.ChoiceField(label=_("Reason"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    answer = forms.ChoiceField(label=_("Answer"), required=False)
    q = forms.CharField(label=_("Patient"), required=False, max_length=100)

    def __init__(self, *args: Any, rules: list[Rule], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        anything = [("", _("Any"))]
        self.fields["rule"].choices = anything + [(r.pk, r.name) for r in rules]
        self.fields["status"].choices = anything + list(DispatchStatus.choices)
        self.fields["reason"].choices = anything + list(SkipReason.choices)
        self.fields["channel"].choices = anything + [(c, CHANNEL_LABELS[c])
                                                     for c in MESSAGE_CHANNELS]
        self.fields["answer"].choices = anything + list(Confirmation.choices)
        self.fields["q"].widget.attrs.update({"type": "search",
                                              "placeholder": _("Name or phone")})

    def filters(self) -> LogFilters:
        """The valid filters (an invalid one is left out, and its error shown)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return LogFilters(rule_id=data.get("rule"), status=data.get("status", ""),
                          reason=data.get("reason", ""), channel=data.get("channel", ""),
                          answer=data.get("answer", ""), search=(data.get("q") or "").strip())
