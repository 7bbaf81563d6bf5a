import json
from typing import Any

from django import forms
from django.conf import settings
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _

from clinic.models import Channel as PatientChannel
from clinic.models import ConsentSource, Patient, TimeOfDay
from clinic.selectors import MESSAGE_CHANNELS
from inbox.models import Channel, ChannelKind, QuickReply
from inbox.services.channels import SECRET_FIELDS, secret_mask

FIELDS = {
    ChannelKind.TELEGRAM: ["name", "bot_token", "is_active"],
    ChannelKind.WHATSAPP: ["name", "phone_number_id", "access_token", "app_secret",
                           "verify_token", "whatsapp_templates", "is_active"],
    ChannelKind.WEBCHAT: ["name", "allowed_origins", "is_active"],
}


class ChannelForm(forms.ModelForm):
    """One form for every kind; it shows the kind's fields. Saved secrets are never sent back:
    the field stays empty, shows the secret's last characters, and empty means "keep"."""

    allowed_origins = forms.CharField(
        label=_("Allowed website origins"), required=False, widget=forms.Textarea({"rows": 3}),
        help_text=_("One per line, e.g. https://clinic.example.ru"))
    whatsapp_templates = forms.CharField(
        label=_("Approved templates (JSON)"), required=False, widget=forms.Textarea({"rows": 4}),
        help_text='[{"name": "visit_reminder", "language": "ru", "params": ["first_name"]}]')

    class Meta:
        model = Channel
        fields = ["name", "bot_token", "phone_number_id", "access_token", "app_secret",
                  "verify_token", "is_active"]
        widgets = {name: forms.PasswordInput(render_value=False) for name in SECRET_FIELDS}

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        for name in list(self.fields):
            if name not in FIELDS[kind]:
                del self.fields[name]
        self.order_fields(FIELDS[kind])
        instance = self.instance
        for name in SECRET_FIELDS:
            if name in self.fields:
                saved = getattr(instance, name, "") if instance.pk else ""
                self.fields[name].required = not saved
                if saved:
                    self.fields[name].help_text = _("Saved: %(mask)s. Leave empty to keep it.") % {
                        "mask": secret_mask(saved)}
        if instance.pk:
            self.initial["allowed_origins"] = "\n".join(instance.allowed_origins)
            self.initial["whatsapp_templates"] = json.dumps(instance.whatsapp_templates,
                                                            ensure_ascii=False)

    def clean_allowed_origins(self) -> list[str]:
        origins = [o.strip().rstrip("/") for o in self.cleaned_data["allowed_origins"].split()]
        for origin in origins:
            if not origin.startswith(("https://", "http://")) or origin.count("/") != 2:
                raise forms.ValidationError(_("“%(o)s” is not an origin like https://site.ru"),
                                            params={"o": origin})
        return origins

    def clean_whatsapp_templates(self) -> list[dict]:
        text = self.cleaned_data["whatsapp_templates"].strip() or "[]"
        try:
            templates = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(_("Not valid JSON.")) from error
        if not isinstance(templates, list) or not all(
                isinstance(t, dict) and isinstance(t.get("name"), str) for t in templates):
            raise forms.ValidationError(_("A list of objects, each with a name."))
        return templates

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in FIELDS[self.kind]}


class QuickReplyForm(forms.ModelForm):
    class Meta:
        model = QuickReply
        fields = ["title", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}


class PatientCommsForm(forms.Form):
    """How the patient likes to be written to. The channel order is a select per position;
    empty positions are skipped (the service refuses a channel chosen twice)."""

    preferred_time_of_day = forms.ChoiceField(
        label=_("Time of day"), required=False, choices=[("", "—"), *TimeOfDay.choices])
    preferred_days = forms.TypedMultipleChoiceField(
        label=_("Days"), required=False, coerce=int, choices=list(WEEKDAYS_ABBR.items()),
        widget=forms.CheckboxSelectMultiple)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        initial = {f"channel_{n}": channel for n, channel in enumerate(patient.channel_order)}
        initial.update(preferred_time_of_day=patient.preferred_time_of_day,
                       preferred_days=patient.preferred_days, language=patient.language)
        super().__init__(*args, initial=initial, auto_id="comms-%s", **kwargs)
        choices = [("", "—"), *((c, PatientChannel(c).label) for c in MESSAGE_CHANNELS)]
        for n in range(len(MESSAGE_CHANNELS)):
            self.fields[f"channel_{n}"] = forms.ChoiceField(
                label=_("Channel %(n)s") % {"n": n + 1}, required=False, choices=choices)

    def channel_fields(self) -> list[forms.BoundField]:
        return [self[f"channel_{n}"] for n in range(len(MESSAGE_CHANNELS))]

    def changes(self) -> dict[str, Any]:
        """The service's arguments."""
        data = self.cleaned_data
        return {"channel_order": [data[f.name] for f in self.channel_fields() if data[f.name]],
                "preferred_time_of_day": data["preferred_time_of_day"],
                "preferred_days": data["preferred_days"], "language": data["language"]}


class ConsentsForm(forms.Form):
    """Consents as the administrator leaves them, for the cells (topic, channel) the form
    shows; each checkbox is "topic:channel" and an unchecked one means not granted."""

    source = forms.ChoiceField(choices=ConsentSource.choices)
    evidence = forms.CharField(max_length=500, required=False)
    granted = forms.MultipleChoiceField(required=False)

    def __init__(self, *args: Any, cells: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cells = {f"{topic}:{channel}": (topic, channel) for topic, channel in cells}
        self.fields["granted"].choices = [(key, key) for key in self.cells]

    def wanted(self) -> dict[tuple[str, str], bool]:
        granted = set(self.cleaned_data["granted"])
        return {cell: key in granted for key, cell in self.cells.items()}
