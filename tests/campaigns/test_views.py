"""The owner's campaign pages: rules, the rule form with its preview and audience, the log,
results and settings; who may see and change what."""

from datetime import timedelta
from itertools import count

import pytest
import time_machine
from django.urls import reverse

from campaigns.models import (
    CampaignSettings,
    Confirmation,
    Dispatch,
    DispatchStatus,
    Rule,
    RuleKind,
    SkipReason,
)
from campaigns.services.rules import rule_create, rule_current_revision
from clinic.models import Patient
from tests.clinic.factories import PatientFactory
from tests.inbox.factories import ConversationFactory, MessageFactory, TelegramChannelFactory
from tests.scheduling.factories import AppointmentFactory, DoctorFactory, ServiceFactory

pytestmark = pytest.mark.django_db

REMINDER_TEXT = "{patient_first_name}, ждём вас {visit_date} в {visit_time}. Придёте?"
HTMX = {"HTTP_HX_REQUEST": "true"}
keys = count()


def reminder_data(**overrides: str) -> dict[str, str]:
    """The reminder form as an owner fills it: 2 days and 3 hours before the visit."""
    data = {
        "name": "Напоминание", "step_0_amount": "2", "step_0_unit": "days",
        "step_0_direction": "before", "step_1_amount": "3", "step_1_unit": "hours",
        "step_1_direction": "before", "step_2_amount": "", "step_2_unit": "hours",
        "step_2_direction": "before", "ask_confirmation": "on", "do_not_send_within": "60",
        "channel_1": "telegram", "channel_2": "whatsapp", "text_ru": REMINDER_TEXT,
        "text_en": "Hello {patient_first_name}, see you on {visit_date}.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def reminder(clinic, now, **fields) -> Rule:
    spec = {"name": "Напоминание", "kind": RuleKind.REMINDER, "steps": [-24 * 60],
            "texts": {"ru": {"": REMINDER_TEXT}}}
    spec.update(fields)
    return rule_create(clinic=clinic, by=None, now=now, **spec)


def dispatch(rule: Rule, patient, now, **fields) -> Dispatch:
    fields.setdefault("status", DispatchStatus.SENT)
    return Dispatch.objects.create(
        clinic=rule.clinic, rule=rule, revision=rule_current_revision(rule=rule),
        patient=patient, occurrence_key=f"test:{next(keys)}", due_at=now, send_at=now,
        created_at=now, **fields)


# --- The rules list ----------------------------------------------------------------------------

def test_an_owners_first_visit_gives_an_old_clinic_its_default_rules(client, clinic, owner):
    Rule.objects.filter(clinic=clinic).delete()
    CampaignSettings.objects.filter(clinic=clinic).delete()
    client.force_login(owner)

    response = client.get(reverse("campaigns:index"))

    assert response.status_code == 200
    rules = list(Rule.objects.filter(clinic=clinic))
    assert len(rules) == 4 and not any(r.enabled for r in rules)
    assert [row.rule.pk for row in response.context["rows"]] == [r.pk for r in rules]
    client.get(reverse("campaigns:index"))
    assert Rule.objects.filter(clinic=clinic).count() == 4  # once


def test_the_list_counts_the_last_30_days_sent_and_confirmed(client, clinic, owner, patient,
                                                             now):
    rule = reminder(clinic, now)
    dispatch(rule, patient, now, sent_at=now - timedelta(days=1),
             confirmation=Confirmation.CONFIRMED)
    dispatch(rule, patient, now, sent_at=now - timedelta(days=2))
    dispatch(rule, patient, now, sent_at=now - timedelta(days=40))  # too long ago
    dispatch(rule, patient, now, status=DispatchStatus.SKIPPED, reason=SkipReason.OPTED_OUT)
    client.force_login(owner)

    with time_machine.travel(now, tick=False):
        response = client.get(reverse("campaigns:index"))

    row = next(r for r in response.context["rows"] if r.rule == rule)
    assert (row.sent, row.confirmed) == (2, 1)


def test_an_owner_switches_a_rule_on_and_off(client, clinic, owner, now):
    rule = reminder(clinic, now)
    client.force_login(owner)
    url = reverse("campaigns:switch", args=[rule.pk])

    response = client.post(url, {"enabled": "1"}, **HTMX)

    assert response.status_code == 200
    assert f'data-rule="{rule.pk}" data-enabled="1"' in response.content.decode()
    rule.refresh_from_db()
    assert rule.enabled
    assert client.post(url, {"enabled": "0"}).status_code == 302
    rule.refresh_from_db()
    assert not rule.enabled
    assert rule.revision == 1  # switching is not a change of settings


# --- The rule form ------------------------------------------------------------------------------

def test_an_owner_creates_a_reminder_rule_through_the_form(client, clinic, owner):
    client.force_login(owner)

    response = client.post(reverse("campaigns:rule-new-kind", args=["reminder"]),
                           reminder_data())

    rule = Rule.objects.get(clinic=clinic, name="Напоминание")
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:rule", args=[rule.pk])
    assert rule.kind == RuleKind.REMINDER
    assert rule.steps == [-2 * 24 * 60, -3 * 60]
    assert (rule.ask_confirmation, rule.do_not_send_within) == (True, 60)
    assert rule.channel_order == ["telegram", "whatsapp"]
    assert rule.texts == {"ru": {"": REMINDER_TEXT},
                          "en": {"": "Hello {patient_first_name}, see you on {visit_date}."}}
    assert not rule.enabled
    revision = rule.revisions.get()
    assert (revision.number, revision.created_by) == (1, owner)


def test_the_form_shows_the_saved_steps_again_as_days_and_hours(client, clinic, owner, now):
    rule = reminder(clinic, now, steps=[-2 * 24 * 60, -90])
    client.force_login(owner)

    form = client.get(reverse("campaigns:rule", args=[rule.pk])).context["form"]

    assert [form[f"step_0_{p}"].value() for p in ("amount", "unit", "direction")] == [
        2, "days", "before"]
    assert [form[f"step_1_{p}"].value() for p in ("amount", "unit", "direction")] == [
        90, "minutes", "before"]


def test_an_edit_makes_revision_2_and_an_unchanged_save_does_not(client, clinic, owner, now):
    client.force_login(owner)
    client.post(reverse("campaigns:rule-new-kind", args=["reminder"]), reminder_data())
    rule = Rule.objects.get(clinic=clinic, name="Напоминание")
    url = reverse("campaigns:rule", args=[rule.pk])

    response = client.post(url, reminder_data(step_1_amount="2"))

    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.revision == 2 and rule.steps == [-2 * 24 * 60, -2 * 60]
    assert [(r.number, r.created_by) for r in rule.revisions.all()] == [(2, owner), (1, owner)]
    assert rule.revisions.get(number=1).snapshot["steps"] == [-2 * 24 * 60, -3 * 60]

    client.post(url, reminder_data(step_1_amount="2"))
    rule.refresh_from_db()
    assert rule.revision == 2
    page = client.get(url)
    assert [r.number for r in page.context["revisions"]] == [2, 1]


def test_an_unknown_variable_is_a_form_error(client, clinic, owner):
    client.force_login(owner)

    response = client.post(reverse("campaigns:rule-new-kind", args=["reminder"]),
                           reminder_data(text_ru="{patient_nickname}, ждём вас!"))

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["text_ru"]
    assert "patient_nickname" in response.context["form"].errors["text_ru"][0]
    assert not Rule.objects.filter(clinic=clinic, name="Напоминание").exists()


def test_a_visit_variable_is_refused_in_a_message_not_about_a_visit(client, clinic, owner):
    client.force_login(owner)

    response = client.post(reverse("campaigns:rule-new-kind", args=["recall"]), {
        "name": "Отзыв", "interval_months": "6", "max_attempts": "1", "attempt_gap_days": "14",
        "text_ru": "Ждём вас {visit_date}"})

    assert list(response.context["form"].errors) == ["text_ru"]


@pytest.mark.parametrize("text", ["С днём рождения! Дарим скидку на чистку",
                                  "С днём рождения! −10% на всё",
                                  "С днём рождения! Для вас специальное предложение",
                                  "Happy birthday! A special OFFER for you"])
def test_a_birthday_greeting_with_an_offer_is_refused(client, clinic, owner, text):
    client.force_login(owner)

    response = client.post(reverse("campaigns:rule-new-kind", args=["birthday"]),
                           {"name": "ДР", "text_ru": text})

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["text_ru"]
    assert not Rule.objects.filter(clinic=clinic, name="ДР").exists()


def test_a_birthday_greeting_without_an_offer_is_saved_for_the_day(client, clinic, owner):
    client.force_login(owner)

    client.post(reverse("campaigns:rule-new-kind", args=["birthday"]),
                {"name": "ДР", "text_ru": "{patient_first_name}, с днём рождения!"})

    rule = Rule.objects.get(clinic=clinic, name="ДР")
    assert (rule.kind, rule.steps) == (RuleKind.BIRTHDAY, [0])


def test_a_recall_is_limited_to_the_clinics_own_services(client, clinic, other_clinic, owner):
    mine = ServiceFactory(clinic=clinic, name="Гигиена")
    theirs = ServiceFactory(clinic=other_clinic, name="Гигиена")
    client.force_login(owner)
    url = reverse("campaigns:rule-new-kind", args=["recall"])
    data = {"name": "Гигиена", "interval_months": "6", "max_attempts": "2",
            "attempt_gap_days": "10", "text_ru": "{patient_first_name}, пора на гигиену"}

    refused = client.post(url, {**data, "services": [str(theirs.pk)]})
    assert list(refused.context["form"].errors) == ["services"]

    client.post(url, {**data, "services": [str(mine.pk)]})
    rule = Rule.objects.get(clinic=clinic, name="Гигиена")
    assert (rule.service_ids, rule.interval_months, rule.max_attempts,
            rule.attempt_gap_days) == ([mine.pk], 6, 2, 10)


def test_a_reminder_step_after_the_visit_is_refused(client, owner):
    client.force_login(owner)

    response = client.post(reverse("campaigns:rule-new-kind", args=["reminder"]),
                           reminder_data(step_0_direction="after"))

    assert list(response.context["form"].errors) == ["step_0_amount"]


def test_the_whatsapp_template_is_one_of_the_clinics(client, clinic, owner):
    from tests.inbox.factories import WhatsAppChannelFactory

    WhatsAppChannelFactory(clinic=clinic)  # has "visit_reminder"
    client.force_login(owner)
    url = reverse("campaigns:rule-new-kind", args=["reminder"])

    refused = client.post(url, reminder_data(whatsapp_template="other_template"))
    assert list(refused.context["form"].errors) == ["whatsapp_template"]

    client.post(url, reminder_data(whatsapp_template="visit_reminder"))
    rule = Rule.objects.get(clinic=clinic, name="Напоминание")
    assert (rule.whatsapp_template, rule.whatsapp_params) == (
        "visit_reminder", ["patient_first_name", "visit_time"])  # the template's own


# --- Preview and audience ------------------------------------------------------------------------

def test_the_preview_renders_the_text_for_a_patient_with_an_upcoming_visit(client, clinic,
                                                                           owner, now):
    patient = PatientFactory(clinic=clinic, first_name="Ольга<b>")
    AppointmentFactory(doctor=DoctorFactory(clinic=clinic), patient=patient,
                       start=now + timedelta(days=1, hours=1))
    client.force_login(owner)

    with time_machine.travel(now, tick=False):
        response = client.post(reverse("campaigns:preview", args=["reminder"]),
                               reminder_data(text_ru="{patient_first_name}, <i>ждём</i> вас "
                                                     "в {visit_time}"), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Ольга&lt;b&gt;, &lt;i&gt;ждём&lt;/i&gt; вас в 12:00" in html
    assert "<b>" not in html and "<i>" not in html
    assert 'class="cmp-buttons"' in html  # it asks to confirm: the answer buttons show


def test_the_preview_uses_a_made_up_patient_when_nobody_has_a_visit(client, clinic, owner):
    client.force_login(owner)

    response = client.post(reverse("campaigns:preview", args=["recall"]),
                           {"text_ru": "{patient_first_name}, {unknown}"}, **HTMX)

    html = response.content.decode()
    assert '<p data-testid="preview-text">Мария, {unknown}</p>' in html
    assert "cmp-preview-errors" in html  # the unknown variable, and the missing fields
    assert not Patient.objects.filter(first_name="Мария").exists()  # never saved


def _audience_setup(clinic, now):
    """Three patients with a visit tomorrow at noon: one reachable on Telegram, one opted out,
    one with no way to reach them."""
    doctor = DoctorFactory(clinic=clinic)
    booked = now - timedelta(days=10)
    reachable = PatientFactory(clinic=clinic, first_name="Вера", last_name="Телеграмова")
    TelegramChannelFactory(clinic=clinic)
    ConversationFactory(contact__channel__clinic=clinic, patient=reachable,
                        last_patient_message_at=now - timedelta(days=3))
    opted_out = PatientFactory(clinic=clinic, first_name="Ирина", opted_out_all=True)
    unreachable = PatientFactory(clinic=clinic, first_name="Олег", phone="")
    for patient in (reachable, opted_out, unreachable):
        AppointmentFactory(doctor=doctor, patient=patient, created_at=booked,
                           start=now + timedelta(days=1, hours=1 + patient.pk % 3))
    return reachable, opted_out, unreachable


def test_the_audience_of_an_unsaved_rule_shows_who_is_skipped_and_why(client, clinic, owner,
                                                                      now):
    reachable, opted_out, unreachable = _audience_setup(clinic, now)
    client.force_login(owner)

    with time_machine.travel(now, tick=False):
        response = client.post(reverse("campaigns:audience", args=["reminder"]),
                               reminder_data(step_0_amount="1", step_1_amount=""), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<dd data-testid="audience-total">3</dd>' in html
    assert '<dd data-testid="audience-would-send">1</dd>' in html
    assert f'<tr data-patient="{reachable.pk}">' in html
    assert "<td>Telegram</td>" in html and "Вера, ждём вас" in html
    assert f'data-patient="{unreachable.pk}" data-reason="no_channel"' in html
    assert f'data-patient="{opted_out.pk}" data-reason="opted_out"' in html
    assert '<div data-reason="no_channel">' in html  # the count by reason
    assert not Dispatch.objects.exists()  # nothing written


def test_an_invalid_form_has_no_audience(client, owner):
    client.force_login(owner)

    response = client.post(reverse("campaigns:audience", args=["reminder"]),
                           reminder_data(text_ru="{nope}"), **HTMX)

    assert 'data-testid="audience-invalid"' in response.content.decode()


def test_a_dry_run_of_the_saved_rule_writes_nothing(client, clinic, manager, now):
    reachable, opted_out, unreachable = _audience_setup(clinic, now)
    rule = reminder(clinic, now, steps=[-24 * 60])
    client.force_login(manager)

    with time_machine.travel(now, tick=False):
        fragment = client.get(reverse("campaigns:dry-run", args=[rule.pk]), **HTMX)
        page = client.get(reverse("campaigns:dry-run", args=[rule.pk]))

    html = fragment.content.decode()
    assert '<dd data-testid="audience-would-send">1</dd>' in html
    assert '<div data-reason="opted_out"><dt>' in html
    assert '<div data-reason="no_channel"><dt>' in html
    assert "<html" not in html and "HX-Request" in fragment["Vary"]
    assert page.status_code == 200 and page.context["dry_run"].total == 3
    assert not Dispatch.objects.exists()


# --- The delivery log ----------------------------------------------------------------------------

def _log_setup(clinic, now):
    rule = reminder(clinic, now)
    recall = rule_create(clinic=clinic, by=None, now=now, name="Отзыв", kind=RuleKind.RECALL,
                         texts={"ru": {"": "Ждём вас"}})
    vera = PatientFactory(clinic=clinic, last_name="Смирнова", first_name="Вера")
    oleg = PatientFactory(clinic=clinic, last_name="Кузнецов", first_name="Олег")
    conversation = ConversationFactory(contact__channel__clinic=clinic, patient=vera)
    message = MessageFactory(conversation=conversation, direction="out", status="delivered",
                             body="Вера, ждём вас", created_at=now)
    sent = dispatch(rule, vera, now, message=message, channel="telegram", sent_at=now,
                    confirmation=Confirmation.CONFIRMED)
    skipped = dispatch(rule, oleg, now - timedelta(hours=1), status=DispatchStatus.SKIPPED,
                       reason=SkipReason.NO_CHANNEL, detail="SMS: не подключено")
    recalled = dispatch(recall, oleg, now - timedelta(hours=2), status=DispatchStatus.PLANNED)
    return rule, recall, sent, skipped, recalled, conversation


def _shown(response) -> list[int]:
    return [row.dispatch.pk for row in response.context["rows"]]


def test_the_log_lists_newest_first_with_delivery_answer_and_conversation(client, clinic,
                                                                          manager, now):
    rule, recall, sent, skipped, recalled, conversation = _log_setup(clinic, now)
    client.force_login(manager)

    response = client.get(reverse("campaigns:log"))

    assert response.status_code == 200
    assert _shown(response) == [sent.pk, skipped.pk, recalled.pk]
    html = response.content.decode()
    assert reverse("inbox:thread", args=[conversation.pk]) in html
    assert 'data-delivery="delivered"' in html and 'data-answer="confirmed"' in html


@pytest.mark.parametrize(("query", "expected"), [
    ("status=skipped", ["skipped"]),
    ("reason=no_channel", ["skipped"]),
    ("channel=telegram", ["sent"]),
    ("answer=confirmed", ["sent"]),
    ("q=Кузнецов", ["skipped", "recalled"]),
    ("status=planned&q=Кузн", ["recalled"]),
])
def test_the_log_filters(client, clinic, manager, now, query, expected):
    rule, recall, sent, skipped, recalled, _conversation = _log_setup(clinic, now)
    by_name = {"sent": sent.pk, "skipped": skipped.pk, "recalled": recalled.pk}
    client.force_login(manager)

    response = client.get(f"{reverse('campaigns:log')}?{query}")

    assert _shown(response) == [by_name[n] for n in expected]


def test_the_log_filters_by_rule_and_pages_by_50(client, clinic, manager, now):
    rule, recall, *_ = _log_setup(clinic, now)
    patient = PatientFactory(clinic=clinic)
    for i in range(55):
        dispatch(recall, patient, now - timedelta(days=1, minutes=i),
                 status=DispatchStatus.PLANNED)
    client.force_login(manager)

    first = client.get(f"{reverse('campaigns:log')}?rule={recall.pk}")
    second = client.get(f"{reverse('campaigns:log')}?rule={recall.pk}&page=2")

    assert first.context["page"].paginator.count == 56
    assert len(_shown(first)) == 50 and len(_shown(second)) == 6
    assert not {rule.pk} & {row.dispatch.rule_id for row in first.context["rows"]}


# --- Results -------------------------------------------------------------------------------------

def test_the_results_page_shows_the_rules_numbers_and_charts(client, clinic, manager, now):
    rule = reminder(clinic, now, ask_confirmation=True)
    patient = PatientFactory(clinic=clinic)
    conversation = ConversationFactory(contact__channel__clinic=clinic, patient=patient)
    read = MessageFactory(conversation=conversation, direction="out", status="read",
                          created_at=now)
    failed = MessageFactory(conversation=conversation, direction="out", status="failed",
                            error_text="Forbidden: bot was blocked by the user", created_at=now)
    dispatch(rule, patient, now - timedelta(days=1), message=read, sent_at=now,
             channel="telegram", confirmation=Confirmation.CONFIRMED)
    dispatch(rule, patient, now - timedelta(days=2), message=failed, sent_at=now,
             channel="telegram")
    dispatch(rule, patient, now - timedelta(days=3), status=DispatchStatus.SKIPPED,
             reason=SkipReason.OPTED_OUT)
    dispatch(rule, patient, now - timedelta(days=200), sent_at=now - timedelta(days=200))
    client.force_login(manager)

    with time_machine.travel(now, tick=False):
        response = client.get(reverse("campaigns:results", args=[rule.pk]) + "?days=90")
        year = client.get(reverse("campaigns:results", args=[rule.pk]) + "?days=365")

    assert response.status_code == 200 and response.context["days"] == 90
    figures = response.context["figures"]
    assert (figures.sent, figures.delivered, figures.read, figures.confirmed,
            figures.failed) == (2, 1, 1, 1, 1)
    html = response.content.decode()
    assert '<g data-key="sent" data-value="2">' in html
    assert '<g data-key="confirmed" data-value="1">' in html
    assert '<g data-key="opted_out" data-value="1">' in html
    assert "Forbidden: bot was blocked by the user" in html
    assert year.context["figures"].sent == 3


# --- Settings ------------------------------------------------------------------------------------

def test_an_owner_changes_the_send_window_caps_and_channel_order(client, clinic, owner):
    client.force_login(owner)

    response = client.post(reverse("campaigns:settings"), {
        "send_from": "10:00", "send_until": "20:30", "daily_cap": "1", "weekly_cap": "2",
        "channel_1": "whatsapp", "channel_2": "telegram", "channel_3": "email"})

    assert response.status_code == 302
    settings_ = CampaignSettings.objects.get(clinic=clinic)
    assert (f"{settings_.send_from:%H:%M}", f"{settings_.send_until:%H:%M}") == ("10:00",
                                                                                "20:30")
    assert (settings_.daily_cap, settings_.weekly_cap) == (1, 2)
    assert settings_.channel_order == ["whatsapp", "telegram", "email"]


def test_a_window_that_ends_before_it_starts_is_refused(client, clinic, owner):
    client.force_login(owner)

    response = client.post(reverse("campaigns:settings"), {
        "send_from": "21:00", "send_until": "09:00", "daily_cap": "1", "weekly_cap": "3",
        "channel_1": "telegram"})

    assert list(response.context["form"].errors) == ["send_until"]


# --- Who may see and change what ---------------------------------------------------------------

def test_a_manager_sees_the_rules_log_and_results_read_only(client, clinic, manager, now):
    rule = reminder(clinic, now)
    client.force_login(manager)

    for url in (reverse("campaigns:index"), reverse("campaigns:log"),
                reverse("campaigns:rule", args=[rule.pk]),
                reverse("campaigns:results", args=[rule.pk])):
        assert client.get(url).status_code == 200, url
    page = client.get(reverse("campaigns:rule", args=[rule.pk]))
    assert page.context["form"] is None and page.context["facts"]
    rules = client.get(reverse("campaigns:index")).content.decode()
    assert 'data-testid="rule-switch"' not in rules

    assert client.post(reverse("campaigns:switch", args=[rule.pk]),
                       {"enabled": "1"}).status_code == 403
    assert client.post(reverse("campaigns:rule", args=[rule.pk]),
                       reminder_data()).status_code == 403
    assert client.post(reverse("campaigns:rule-new-kind", args=["reminder"]),
                       reminder_data()).status_code == 403
    assert client.post(reverse("campaigns:preview", args=["reminder"]),
                       reminder_data()).status_code == 403
    assert client.post(reverse("campaigns:audience", args=["reminder"]),
                       reminder_data()).status_code == 403
    assert client.get(reverse("campaigns:settings")).status_code == 403
    rule.refresh_from_db()
    assert (rule.enabled, rule.revision) == (False, 1)


def test_an_administrator_gets_a_403_everywhere(client, clinic, administrator, now):
    rule = reminder(clinic, now)
    client.force_login(administrator)

    for url in (reverse("campaigns:index"), reverse("campaigns:log"),
                reverse("campaigns:rule", args=[rule.pk]),
                reverse("campaigns:results", args=[rule.pk]),
                reverse("campaigns:dry-run", args=[rule.pk]),
                reverse("campaigns:rule-new"), reverse("campaigns:settings")):
        assert client.get(url).status_code == 403, url


def test_another_clinics_rule_is_a_404(client, clinic, outsider, now):
    rule = reminder(clinic, now)
    client.force_login(outsider)

    for url in (reverse("campaigns:rule", args=[rule.pk]),
                reverse("campaigns:results", args=[rule.pk]),
                reverse("campaigns:dry-run", args=[rule.pk])):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("campaigns:switch", args=[rule.pk]),
                       {"enabled": "1"}).status_code == 404
    assert client.post(reverse("campaigns:rule", args=[rule.pk]),
                       reminder_data()).status_code == 404
    rule.refresh_from_db()
    assert not rule.enabled
    assert rule.pk not in [r.rule.pk for r in client.get(
        reverse("campaigns:index")).context["rows"]]
    assert client.get(f"{reverse('campaigns:log')}?rule={rule.pk}").context["form"].errors


def test_the_new_rule_page_offers_every_kind(client, owner):
    client.force_login(owner)

    response = client.get(reverse("campaigns:rule-new"))

    assert [k for k, _label, _text in response.context["kinds"]] == list(RuleKind.values)
    for kind in RuleKind.values:
        page = client.get(reverse("campaigns:rule-new-kind", args=[kind]))
        assert page.status_code == 200, kind
    assert client.get(reverse("campaigns:rule-new-kind", args=["spam"])).status_code == 404


def test_the_owner_changes_the_campaign_settings_and_the_history_keeps_it(client, clinic, owner,
                                                                          manager):
    from clinic.models import ClinicSettingChange

    data = {"send_from": "10:00", "send_until": "20:00", "daily_cap": "1", "weekly_cap": "2",
            "channel_1": "whatsapp", "channel_2": "telegram"}
    client.force_login(manager)
    assert client.post(reverse("campaigns:settings"), data).status_code == 403
    client.force_login(owner)
    assert client.post(reverse("campaigns:settings"), data).status_code == 302
    saved = CampaignSettings.objects.get(clinic=clinic)
    assert (saved.send_from.hour, saved.send_until.hour, saved.weekly_cap) == (10, 20, 2)
    assert saved.channel_order == ["whatsapp", "telegram"]
    changes = ClinicSettingChange.objects.filter(clinic=clinic, changed_by=owner)
    assert set(changes.values_list("field", flat=True)) == {
        "campaigns:send_from", "campaigns:send_until", "campaigns:weekly_cap",
        "campaigns:channel_order"}
    assert changes.get(field="campaigns:send_from").old_value == "09:00"
