"""Owners' rules: created, changed (each change is a new revision), switched on and off, and
the defaults every new clinic starts with (all off until the owner switches them on)."""

from datetime import datetime
from typing import Any

from django.db import transaction

from campaigns.models import CampaignSettings, Rule, RuleKind, RuleRevision
from clinic.models import Clinic, ClinicSettingChange
from clinic.services import setting_json_value
from scheduling.models import Service

SETTINGS_FIELDS = ("name", "kind", "steps", "ask_confirmation", "do_not_send_within",
                   "interval_months", "attempt_gap_days", "max_attempts", "service_ids",
                   "doctor_ids", "age_min", "age_max", "last_visit_within_days",
                   "channel_order", "texts", "whatsapp_template", "whatsapp_params")
"""What a revision keeps: everything that decides who gets what, when and how."""

HOUR, DAY = 60, 24 * 60


def campaign_settings(*, clinic: Clinic) -> CampaignSettings:
    return CampaignSettings.objects.get_or_create(clinic=clinic)[0]


def _snapshot(rule: Rule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in SETTINGS_FIELDS}


def rule_current_revision(*, rule: Rule) -> RuleRevision:
    return RuleRevision.objects.get(rule=rule, number=rule.revision)


def rule_create(*, clinic: Clinic, by: Any | None, now: datetime, **fields: Any) -> Rule:
    with transaction.atomic():
        rule = Rule(clinic=clinic, **fields)
        rule.full_clean(exclude=["clinic"])
        rule.save()
        RuleRevision.objects.create(rule=rule, number=1, snapshot=_snapshot(rule),
                                    created_by=by, created_at=now)
    return rule


def rule_update(*, rule: Rule, by: Any | None, now: datetime, **fields: Any) -> Rule:
    """Change a rule's settings; a change makes the next revision (the old one stays, and the
    dispatches planned under it keep naming it)."""
    with transaction.atomic():
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
        before = _snapshot(rule)
        for name, value in fields.items():
            setattr(rule, name, value)
        rule.full_clean(exclude=["clinic"])
        if _snapshot(rule) != before:
            rule.revision += 1
            RuleRevision.objects.create(rule=rule, number=rule.revision,
                                        snapshot=_snapshot(rule), created_by=by, created_at=now)
        rule.save()
    return rule


def _history(clinic: Clinic, by: Any | None, now: datetime, field: str, old: Any,
             new: Any) -> ClinicSettingChange:
    """Campaign changes go into the clinic's settings history, beside every other setting."""
    return ClinicSettingChange(clinic=clinic, changed_by=by, changed_at=now, field=field,
                               old_value=setting_json_value(old), new_value=setting_json_value(new))


def rule_switch(*, rule: Rule, enabled: bool, by: Any | None, now: datetime) -> Rule:
    """Switch a rule on or off; who and when is kept in the clinic's settings history."""
    with transaction.atomic():
        if Rule.objects.filter(pk=rule.pk).exclude(enabled=enabled).update(enabled=enabled):
            _history(rule.clinic, by, now, f"campaigns:rule:{rule.pk}:enabled",
                     not enabled, enabled).save()
    rule.enabled = enabled
    return rule


CAMPAIGN_SETTING_FIELDS = ("send_from", "send_until", "daily_cap", "weekly_cap",
                           "channel_order")


def campaign_settings_update(*, clinic: Clinic, changes: dict[str, Any], by: Any | None,
                             now: datetime) -> CampaignSettings:
    """Change the send window, caps or channel order; one history row per changed value."""
    with transaction.atomic():
        current = campaign_settings(clinic=clinic)
        current = CampaignSettings.objects.select_for_update().get(pk=current.pk)
        records = []
        for field in CAMPAIGN_SETTING_FIELDS:
            old = setting_json_value(getattr(current, field))
            if field not in changes or old == setting_json_value(changes[field]):
                continue
            records.append(_history(clinic, by, now, f"campaigns:{field}",
                                    getattr(current, field), changes[field]))
            setattr(current, field, changes[field])
        current.full_clean(exclude=["clinic"])
        current.save()
        ClinicSettingChange.objects.bulk_create(records)
    return current


REMINDER_RU = ("{patient_first_name}, здравствуйте! Напоминаем о визите в {clinic_name} "
               "{visit_date} ({visit_weekday}) в {visit_time}, адрес: {clinic_address}. "
               "Подтвердите, пожалуйста: ответьте «да», если придёте, или «нет», если планы "
               "изменились.")
REMINDER_EN = ("Hello {patient_first_name}! A reminder of your visit to {clinic_name} on "
               "{visit_date} at {visit_time}, {clinic_address}. Please reply “yes” if you are "
               "coming or “no” if your plans have changed.")
RECALL_RU = ("{patient_first_name}, здравствуйте! Это {clinic_name}. С вашего последнего "
             "визита прошло полгода — самое время для профилактического осмотра и "
             "гигиены. Ответьте на это сообщение, и мы подберём удобное время.")
RECALL_EN = ("Hello {patient_first_name}, this is {clinic_name}. It has been six months "
             "since your last visit: a good time for a check-up and cleaning. Reply to this "
             "message and we will find a convenient time.")
FOLLOW_UP_RU = ("{patient_first_name}, здравствуйте! Это {clinic_name}. Как вы себя "
                "чувствуете после визита? Если что-то беспокоит, напишите нам — врач "
                "ответит и при необходимости пригласит на осмотр.")
FOLLOW_UP_EN = ("Hello {patient_first_name}, this is {clinic_name}. How are you feeling after "
                "your visit? If anything bothers you, write to us: the doctor will answer.")
BIRTHDAY_RU = ("{patient_first_name}, с днём рождения! Желаем крепкого здоровья, радости и "
               "поводов улыбаться. Ваша {clinic_name}")
BIRTHDAY_EN = ("Happy birthday, {patient_first_name}! Wishing you good health and many "
               "smiles. {clinic_name}")

FOLLOW_UP_SERVICE_WORDS = ("имплант", "удален", "хирург", "implant", "extraction", "surgery")
RECALL_SERVICE_WORDS = ("гигиен", "чистк", "осмотр", "hygiene", "cleaning", "check")


def _service_ids(clinic: Clinic, words: tuple[str, ...]) -> list[int]:
    return [s.pk for s in Service.objects.filter(clinic=clinic)
            if any(w in f"{s.name} {s.category}".lower() for w in words)]


def rule_defaults_create(*, clinic: Clinic, now: datetime) -> list[Rule]:
    """A new clinic's four rules, all off: a 2-days + 2-hours reminder with confirmation, a
    6-month hygiene recall, a follow-up the day after implantation or surgery, a birthday
    greeting without an offer. Made when the clinic has no rule at all (rules are switched
    off, never deleted); a clinic made before campaigns existed gets them when an owner first
    opens the rules."""
    campaign_settings(clinic=clinic)
    if Rule.objects.filter(clinic=clinic).exists():
        return []
    specs = [
        {"name": "Напоминание о визите за 2 дня и за 2 часа", "kind": RuleKind.REMINDER,
         "steps": [-2 * DAY, -2 * HOUR], "ask_confirmation": True, "do_not_send_within": 60,
         "texts": {"ru": {"": REMINDER_RU}, "en": {"": REMINDER_EN}}},
        {"name": "Гигиена через 6 месяцев", "kind": RuleKind.RECALL, "interval_months": 6,
         "max_attempts": 2, "attempt_gap_days": 14,
         "service_ids": _service_ids(clinic, RECALL_SERVICE_WORDS),
         "texts": {"ru": {"": RECALL_RU}, "en": {"": RECALL_EN}}},
        {"name": "Как вы себя чувствуете после имплантации или удаления",
         "kind": RuleKind.FOLLOW_UP, "steps": [DAY],
         "service_ids": _service_ids(clinic, FOLLOW_UP_SERVICE_WORDS),
         "texts": {"ru": {"": FOLLOW_UP_RU}, "en": {"": FOLLOW_UP_EN}}},
        {"name": "Поздравление с днём рождения", "kind": RuleKind.BIRTHDAY, "steps": [0],
         "texts": {"ru": {"": BIRTHDAY_RU}, "en": {"": BIRTHDAY_EN}}},
    ]
    return [rule_create(clinic=clinic, by=None, now=now, **spec) for spec in specs]
