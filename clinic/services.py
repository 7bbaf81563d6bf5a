"""Changes to clinics, staff and patients. Every clinic setting change is recorded."""

import hashlib
import secrets
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clinic.models import (
    WEEKDAYS,
    ApiToken,
    Clinic,
    ClinicDayException,
    ClinicSettingChange,
    ConsentEvent,
    Membership,
    Patient,
)
from clinic.phones import phone_normalize
from clinic.selectors import MESSAGE_CHANNELS, consent_events, consent_granted
from clinic.signals import clinic_created

# The clinic fields an owner edits in the settings pages; each change is versioned.
CLINIC_SETTING_FIELDS = (
    "name",
    "address",
    "phone",
    "timezone",
    "weekly_hours",
    "evening_duty_start",
    "evening_duty_end",
    "evening_duty_weekdays",
    "first_reply_minutes",
    "reply_minutes",
    "promise_minutes",
    "reassign_on_breach",
    "timer_sweep_seconds",
    "max_live_dialogues",
    "name_style",
    "emoji_limit",
    "stop_words",
    "promise_text",
    "ask_satisfaction",
    "satisfaction_question",
)


def setting_json_value(value: Any) -> Any:
    """A setting's value as the history stores it (times and dates as text)."""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


def clinic_create(*, name: str, owner: Any | None = None, **fields: Any) -> Clinic:
    """A new clinic; the apps built on the core set up their part of it (`clinic_created`)."""
    with transaction.atomic():
        clinic = Clinic.objects.create(name=name, **fields)
        if owner is not None:
            Membership.objects.create(user=owner, clinic=clinic, role="owner")
        clinic_created.send(sender=Clinic, clinic=clinic)
    return clinic


def clinic_settings_update(
    *, clinic: Clinic, changed_by: Any, changes: dict[str, Any], now: datetime
) -> list[ClinicSettingChange]:
    """Apply `changes` to the clinic and record one history row per value that really changed."""
    unknown = set(changes) - set(CLINIC_SETTING_FIELDS)
    if unknown:
        raise ValueError(f"Not clinic settings: {sorted(unknown)}")
    with transaction.atomic():
        locked = Clinic.objects.select_for_update().get(pk=clinic.pk)
        records = []
        for field, new in changes.items():
            old = getattr(locked, field)
            if setting_json_value(old) == setting_json_value(new):
                continue
            setattr(locked, field, new)
            records.append(
                ClinicSettingChange(clinic=locked, changed_by=changed_by, changed_at=now,
                                    field=field, old_value=setting_json_value(old),
                                    new_value=setting_json_value(new))
            )
        if records:
            locked.save(update_fields=[r.field for r in records])
            ClinicSettingChange.objects.bulk_create(records)
    for record in records:
        setattr(clinic, record.field, getattr(locked, record.field))
    return records


def clinic_day_exception_set(
    *, clinic: Clinic, changed_by: Any, day: date, intervals: list[list[str]], note: str,
    now: datetime,
) -> ClinicDayException:
    """Declare a holiday (no intervals) or a short day; replaces an earlier entry for that date."""
    with transaction.atomic():
        existing = ClinicDayException.objects.select_for_update().filter(
            clinic=clinic, date=day).first()
        old = {"intervals": existing.intervals, "note": existing.note} if existing else None
        exception, _ = ClinicDayException.objects.update_or_create(
            clinic=clinic, date=day, defaults={"intervals": intervals, "note": note})
        ClinicSettingChange.objects.create(
            clinic=clinic, changed_by=changed_by, changed_at=now, field=f"day:{day.isoformat()}",
            old_value=old, new_value={"intervals": intervals, "note": note})
    return exception


def clinic_day_exception_delete(
    *, exception: ClinicDayException, changed_by: Any, now: datetime
) -> None:
    with transaction.atomic():
        ClinicSettingChange.objects.create(
            clinic_id=exception.clinic_id, changed_by=changed_by, changed_at=now,
            field=f"day:{exception.date.isoformat()}",
            old_value={"intervals": exception.intervals, "note": exception.note}, new_value=None)
        exception.delete()


def staff_user_create(
    *, clinic: Clinic, username: str, password: str, role: str, first_name: str = "",
    last_name: str = "",
) -> Membership:
    user = get_user_model().objects.create_user(
        username=username, password=password, first_name=first_name, last_name=last_name)
    return Membership.objects.create(user=user, clinic=clinic, role=role)


def patient_create(*, clinic: Clinic, phone: str = "", **fields: Any) -> Patient:
    """Create a patient; the phone is normalised to E.164 (ValidationError when invalid)."""
    patient = Patient(clinic=clinic, phone=phone_normalize(phone), **fields)
    patient.full_clean(exclude=["clinic"])
    patient.save()
    return patient


def patient_update(*, patient: Patient, **fields: Any) -> Patient:
    if "phone" in fields:
        fields["phone"] = phone_normalize(fields["phone"])
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.full_clean(exclude=["clinic"])
    patient.save(update_fields=[*fields, "updated_at"])
    return patient


def consent_record(
    *, patient: Patient, topic: str, granted: bool, source: str, recorded_by: Any | None,
    now: datetime, channel: str = "", evidence: str = "",
) -> ConsentEvent:
    """Append a consent given or withdrawn; the ledger is never edited."""
    event = ConsentEvent(patient=patient, topic=topic, channel=channel, granted=granted,
                         source=source, evidence=evidence, recorded_by=recorded_by,
                         recorded_at=now)
    event.full_clean(exclude=["patient", "recorded_by"])
    event.save()
    return event


def availability_set(*, membership: Membership, availability: str) -> bool:
    """Online, away or offline; True when it changed."""
    changed = Membership.objects.filter(pk=membership.pk).exclude(
        availability=availability).update(availability=availability)
    membership.availability = availability
    return bool(changed)


def staff_sign_out(*, user: Any) -> None:
    """Whoever signs out is offline in every clinic: nothing new is given to them."""
    Membership.objects.filter(user=user).update(availability="offline")


def consents_update(
    *, patient: Patient, wanted: Mapping[tuple[str, str], bool], source: str, evidence: str,
    recorded_by: Any, now: datetime,
) -> list[ConsentEvent]:
    """Append a ledger row for each (topic, channel) cell whose current state is not the
    wanted one; the other cells get none. Every-channel rows ("") go first, so that a
    channel's own row recorded in the same change is the newer one and decides there."""
    events = consent_events(patient=patient)
    changed = [(topic, channel, granted)
               for (topic, channel), granted in sorted(wanted.items(), key=lambda c: c[0][1] != "")
               if consent_granted(events=events, topic=topic, channel=channel) != granted]
    with transaction.atomic():
        return [consent_record(patient=patient, topic=topic, channel=channel, granted=granted,
                               source=source, evidence=evidence, recorded_by=recorded_by,
                               now=now)
                for topic, channel, granted in changed]


COMMS_FIELDS = ("channel_order", "preferred_time_of_day", "preferred_days", "language")


def check_comms(*, channel_order: list[str], preferred_days: list[int]) -> None:
    """Channels are message channels, each once; days are weekdays (0 = Monday), each once."""
    errors = {}
    if not set(channel_order) <= set(MESSAGE_CHANNELS):
        errors["channel_order"] = _("Only Telegram, WhatsApp, website chat, SMS and e-mail.")
    elif len(set(channel_order)) != len(channel_order):
        errors["channel_order"] = _("Each channel may be chosen once.")
    if not set(preferred_days) <= set(WEEKDAYS) or len(set(preferred_days)) != len(
            preferred_days):
        errors["preferred_days"] = _("Weekdays, each once.")
    if errors:
        raise ValidationError(errors)


def patient_comms_update(
    *, patient: Patient, channel_order: list[str], preferred_time_of_day: str,
    preferred_days: list[int], language: str,
) -> Patient:
    """How the patient likes to be written to: channels in order, time of day, days, language."""
    check_comms(channel_order=channel_order, preferred_days=preferred_days)
    patient.channel_order = list(channel_order)
    patient.preferred_time_of_day = preferred_time_of_day
    patient.preferred_days = sorted(preferred_days)
    patient.language = language
    patient.full_clean(exclude=[f.name for f in Patient._meta.fields if f.name not in COMMS_FIELDS])
    patient.save(update_fields=[*COMMS_FIELDS, "updated_at"])
    return patient


API_TOKEN_PREFIX = "cit_"
"""Every clinic API token starts with this, so a leaked one is easy to recognise and search for."""

API_TOKEN_TOUCH_SECONDS = 60
"""`last_used_at` is written at most this often per token, not on every request."""


def api_token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, clinic: Clinic, name: str, created_by: Any | None,
                     now: datetime) -> tuple[ApiToken, str]:
    """A new token for the clinic's integrations; returns it and the secret, shown only once."""
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        clinic=clinic, name=name, prefix=secret[: len(API_TOKEN_PREFIX) + 6],
        secret_hash=api_token_hash(secret), created_by=created_by, created_at=now)
    return token, secret


def api_token_revoke(*, token: ApiToken, revoked_by: Any | None, now: datetime) -> ApiToken:
    """Revoke at once: the next request with it is refused. Revoking twice is a no-op."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=revoked_by)
    token.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return token


def api_token_authenticate(*, secret: str, now: datetime) -> ApiToken | None:
    """The live token with this secret (its clinic loaded), noting when it was last used."""
    if not secret.startswith(API_TOKEN_PREFIX):
        return None
    token = (ApiToken.objects.select_related("clinic")
             .filter(secret_hash=api_token_hash(secret), revoked_at__isnull=True).first())
    if token is None:
        return None
    stale = now - timedelta(seconds=API_TOKEN_TOUCH_SECONDS)
    if token.last_used_at is None or token.last_used_at < stale:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)).update(last_used_at=now)
        token.last_used_at = now
    return token
