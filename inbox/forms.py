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
from inbox.services.widget import (
    COLOR,
    MAX_CONSENT_TEXT,
    MAX_GREETING,
    invites_format,
    invites_parse,
    widget_settings,
)

# The website chat widget's settings, kept together in Channel.widget (form field → key).
WIDGET_FIELDS = {"widget_greeting": "greeting", "widget_form_enabled": "form_enabled",
                 "widget_form_fields": "form_fields", "widget_form_required": "form_required",
                 "widget_consent_text": "consent_text", "widget_color": "color",
                 "widget_position": "position", "widget_invites": "invites"}
FIELDS = {
    ChannelKind.TELEGRAM: ["name", "bot_token", "is_active"],
    ChannelKind.WHATSAPP: ["name", "phone_number_id", "access_token", "app_secret",
                           "verify_token", "whatsapp_templates", "is_active"],
    ChannelKind.WEBCHAT: ["name", "allowed_origins", "is_active", *WIDGET_FIELDS],
}
FORM_FIELD_CHOICES = [("name", _("Name")), ("phone", _("Phone"))]


class ChannelForm(forms.ModelForm):
    """One form for every kind; it shows the kind's fields. Saved secrets are never sent back:
    the field stays empty, shows the secret's last characters, and empty means "keep"."""

    allowed_origins = forms.CharField(
        label=_("Allowed website origins"), required=False, widget=forms.Textarea({"rows": 3}),
        help_text=_("One per line, e.g. https://clinic.example.ru"))
    whatsapp_templates = forms.CharField(
        label=_("Approved templates (JSON)"), required=False, widget=forms.Textarea({"rows": 4}),
        help_text='[{"name": "visit_reminder", "language": "ru", "params": ["first_name"]}]')
    widget_greeting = forms.CharField(
        label=_("Greeting"), required=False, max_length=MAX_GREETING,
        widget=forms.Textarea({"rows": 2}),
        help_text=_("The first words a visitor sees when opening the chat."))
    widget_form_enabled = forms.BooleanField(
        label=_("Ask for contact details before the chat"), required=False)
    widget_form_fields = forms.MultipleChoiceField(
        label=_("Fields of the form"), required=False, choices=FORM_FIELD_CHOICES,
        widget=forms.CheckboxSelectMultiple)
    widget_form_required = forms.MultipleChoiceField(
        label=_("Required fields"), required=False, choices=FORM_FIELD_CHOICES,
        widget=forms.CheckboxSelectMultiple)
    widget_consent_text = forms.CharField(
        label=_("Consent to personal data processing"), required=False,
        max_length=MAX_CONSENT_TEXT, widget=forms.Textarea({"rows": 3}),
        help_text=_("The clinic's text beside a checkbox the visitor must tick before the "
                    "form is sent. Empty: no checkbox."))
    widget_color = forms.CharField(
        label=_("Colour"), max_length=7, widget=forms.TextInput({"type": "color"}),
        help_text=_("#rrggbb, e.g. #1f6feb"))
    widget_position = forms.ChoiceField(
        label=_("Position on the page"),
        choices=[("right", _("Bottom right")), ("left", _("Bottom left"))])
    widget_invites = forms.CharField(
        label=_("Invitations"), required=False, widget=forms.Textarea({"rows": 3}),
        help_text=_("One a line: page | seconds without activity | text, e.g. "
                    "“/prices* | 30 | Подсказать цену?”. The page “*” means every page; "
                    "seconds from 5 to 600. At most one invitation per visit."))

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
        if kind == ChannelKind.WEBCHAT:
            saved = widget_settings(channel=instance)
            self.initial.update(
                widget_greeting=saved.greeting, widget_form_enabled=saved.form_enabled,
                widget_form_fields=list(saved.form_fields),
                widget_form_required=list(saved.form_required),
                widget_consent_text=saved.consent_text, widget_color=saved.color,
                widget_position=saved.position,
                widget_invites=invites_format([vars(i) for i in saved.invites]))

    def channel_fields(self) -> list[forms.BoundField]:
        return [field for field in self.visible_fields() if field.name not in WIDGET_FIELDS]

    def widget_fields(self) -> list[forms.BoundField]:
        return [field for field in self.visible_fields() if field.name in WIDGET_FIELDS]

    def clean_allowed_origins(self) -> list[str]:
        origins = [o.strip().rstrip("/") for o in self.cleaned_data["allowed_origins"].split()]
        for origin in origins:
            if not origin.startswith(("https://", "http://")) or origin.count("/") != 2:
                raise forms.ValidationError(_("“%(o)s” is not an origin like https://site.ru"),
                                            params={"o": origin})
        return origins

    def clean_widget_color(self) -> str:
        color = self.cleaned_data["widget_color"].strip()
        if not COLOR.match(color):
            raise forms.ValidationError(_("A colour is written #rrggbb, e.g. #1f6feb."))
        return color.lower()

    def clean_widget_invites(self) -> list[dict]:
        return invites_parse(self.cleaned_data["widget_invites"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.kind == ChannelKind.WEBCHAT:
            collected = set(data.get("widget_form_fields", []))
            if not set(data.get("widget_form_required", [])) <= collected:
                self.add_error("widget_form_required",
                               _("A required field must also be a field of the form."))
            if (data.get("widget_form_enabled") and not collected
                    and not data.get("widget_consent_text")):
                self.add_error("widget_form_fields",
                               _("Choose what the form asks for, or switch the form off."))
        return data

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
        """The channel's fields to save; the widget's settings as one `widget` value."""
        changes = {name: self.cleaned_data[name] for name in FIELDS[self.kind]
                   if name not in WIDGET_FIELDS}
        if self.kind == ChannelKind.WEBCHAT:
            changes["widget"] = {key: self.cleaned_data[name]
                                 for name, key in WIDGET_FIELDS.items()}
            changes["widget"]["greeting"] = changes["widget"]["greeting"].strip()
            changes["widget"]["consent_text"] = changes["widget"]["consent_text"].strip()
        return changes


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
