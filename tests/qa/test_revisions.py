"""The checklist's revisions: the default "1.2" for every clinic, a new number for every edit,
and a used revision that never changes."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

from clinic.models import Clinic, ClinicSettingChange
from qa.checklist import CODES, DEFAULT_ITEMS
from qa.models import ChecklistRevision, QaSettings
from qa.selectors import checklist_revision_current, checklist_revision_list, qa_settings_get
from qa.services.access import QaForbidden, QaRefused
from qa.services.revisions import (
    RevisionLocked,
    checklist_revision_save,
    checklist_revision_update,
    qa_settings_update,
)
from tests.clinic.factories import ClinicFactory
from tests.qa.factories import Chat, conversation_for, good_dialogue, scored

pytestmark = pytest.mark.django_db


def test_a_new_clinic_has_the_default_revision_1_2(clinic):
    revision = ChecklistRevision.objects.get(clinic=clinic)
    assert (revision.number, revision.is_current) == ("1.2", True)
    items = list(revision.items.order_by("position"))
    assert [(i.code, i.title, i.description) for i in items] == list(DEFAULT_ITEMS)
    assert [i.position for i in items] == list(range(1, len(CODES) + 1))
    assert all(i.weight == 1 and i.enabled and not i.critical and i.parameters == {}
               for i in items)


def test_a_clinic_made_another_way_gets_it_when_it_is_first_read(db):
    clinic = Clinic.objects.create(name="Клиника без сервиса")
    assert not ChecklistRevision.objects.filter(clinic=clinic).exists()
    current = checklist_revision_current(clinic=clinic)
    assert current.number == "1.2" and len(current.items.all()) == len(CODES)
    assert checklist_revision_current(clinic=clinic) == current
    assert ChecklistRevision.objects.filter(clinic=clinic).count() == 1


def test_the_data_migration_gives_every_clinic_the_default_and_can_run_again(clinic):
    migration = importlib.import_module("qa.migrations.0002_default_checklist_revisions")
    bare = Clinic.objects.create(name="Клиника до чек-листа")
    migration.create_default_revisions(apps, None)
    migration.create_default_revisions(apps, None)
    for each in (clinic, bare):
        revision = ChecklistRevision.objects.get(clinic=each)
        assert revision.is_current and revision.number == "1.2"
        assert [i.code for i in revision.items.order_by("position")] == list(CODES)


def test_an_edit_makes_the_next_revision_and_the_old_one_stays(clinic, owner, now):
    changes = {"greeting": {"critical": True, "weight": "2.5"},
               "emoji": {"parameters": {"emoji_limit": 1}},
               "stop_words": {"parameters": {"stop_words": ["короче", " ждите "]}}}
    revision = checklist_revision_save(clinic=clinic, by=owner, changes=changes, now=now)
    assert (revision.number, revision.is_current, revision.created_by) == ("1.3", True, owner)
    greeting = revision.items.get(code="greeting")
    assert greeting.critical and greeting.weight == Decimal("2.50")
    assert revision.items.get(code="stop_words").parameters == {
        "stop_words": ["короче", "ждите"]}
    old = ChecklistRevision.objects.get(clinic=clinic, number="1.2")
    assert not old.is_current and not old.items.get(code="greeting").critical
    assert ChecklistRevision.objects.filter(clinic=clinic, is_current=True).count() == 1

    again = checklist_revision_save(clinic=clinic, by=owner, now=now,
                                    changes={"emoji": {"enabled": False}})
    assert again.number == "1.4" and checklist_revision_current(clinic=clinic) == again
    history = ClinicSettingChange.objects.filter(field="qa:checklist_revision")
    assert [c.new_value["revision"] for c in history.order_by("id")] == ["1.3", "1.4"]
    assert [r.number for r in checklist_revision_list(clinic=clinic)] == ["1.4", "1.3", "1.2"]


def test_saving_no_change_makes_no_revision(clinic, owner, now):
    same = checklist_revision_save(clinic=clinic, by=owner, now=now,
                                   changes={"greeting": {"critical": False}})
    assert same.number == "1.2" and ChecklistRevision.objects.count() == 1


def test_only_the_owner_edits_the_checklist(clinic, manager, administrator, outsider, now):
    for person in (manager, administrator, outsider):
        with pytest.raises(QaForbidden):
            checklist_revision_save(clinic=clinic, by=person, now=now,
                                    changes={"emoji": {"enabled": False}})
    assert ChecklistRevision.objects.filter(clinic=clinic).count() == 1


@pytest.mark.parametrize("changes", [
    {"greeting": {"weight": 0}},
    {"greeting": {"weight": "много"}},
    {"greeting": {"parameters": {"emoji_limit": 1}}},  # not this item's parameter
    {"emoji": {"parameters": {"emoji_limit": -1}}},
    {"first_reply_time": {"parameters": {"minutes": "пять"}}},
    {"name_used": {"parameters": {"name_style": "nickname"}}},
    {"no_such_item": {"enabled": False}},
    {"greeting": {"colour": "red"}},
    {code: {"enabled": False} for code in CODES},
])
def test_an_invalid_edit_is_refused(clinic, owner, now, changes):
    with pytest.raises(QaRefused):
        checklist_revision_save(clinic=clinic, by=owner, now=now, changes=changes)
    assert ChecklistRevision.objects.filter(clinic=clinic).count() == 1


def test_a_revision_a_scorecard_used_is_never_edited_in_place(clinic, owner, administrator,
                                                              patient, now):
    unused = checklist_revision_save(clinic=clinic, by=owner, now=now,
                                     changes={"emoji": {"weight": 2}})
    checklist_revision_update(revision=unused, by=owner, now=now,
                              changes={"emoji": {"weight": 3}})
    assert unused.items.get(code="emoji").weight == 3 and unused.number == "1.3"

    chat = Chat(conversation_for(clinic, patient, assignee=administrator), administrator, now)
    good_dialogue(chat)
    assert scored(chat).revision == unused
    with pytest.raises(RevisionLocked, match="1.3"):
        checklist_revision_update(revision=unused, by=owner, now=now,
                                  changes={"emoji": {"weight": 4}})
    assert unused.items.get(code="emoji").weight == 3


def test_quality_settings_have_defaults_and_their_changes_are_recorded(client, clinic, owner,
                                                                       manager, now):
    settings = qa_settings_get(clinic=clinic)
    assert (settings.review_threshold, settings.review_share) == (80, 10)
    assert "Автоматика ошиблась" in settings.override_reasons
    with pytest.raises(QaForbidden):
        qa_settings_update(clinic=clinic, changed_by=manager, now=now,
                           changes={"review_share": 20})
    with pytest.raises(QaRefused):
        qa_settings_update(clinic=clinic, changed_by=owner, now=now,
                           changes={"review_share": 101})
    records = qa_settings_update(clinic=clinic, changed_by=owner, now=now, changes={
        "review_share": 20, "review_threshold": 80, "override_reasons": ["Другое", " "]})
    assert {r.field for r in records} == {"qa:review_share", "qa:override_reasons"}
    settings = QaSettings.objects.get(clinic=clinic)
    assert (settings.review_share, settings.override_reasons) == (20, ["Другое"])
    client.force_login(owner)
    history = client.get(reverse("clinic:settings-history"))  # shows other apps' settings
    assert history.status_code == 200 and "qa:review_share" in history.content.decode()


def test_each_clinic_has_its_own_current_revision(clinic, owner, now):
    other = ClinicFactory()
    checklist_revision_save(clinic=clinic, by=owner, now=now,
                            changes={"emoji": {"enabled": False}})
    assert checklist_revision_current(clinic=other).number == "1.2"
    assert checklist_revision_current(clinic=clinic).number == "1.3"


def test_a_save_based_on_a_revision_that_is_no_longer_current_is_refused(clinic, owner, now):
    edited = checklist_revision_current(clinic=clinic)
    checklist_revision_save(clinic=clinic, by=owner, now=now,
                            changes={"emoji": {"parameters": {"emoji_limit": 1}}})
    with pytest.raises(QaRefused, match=r"1\.3"):  # names the revision saved meanwhile
        checklist_revision_save(clinic=clinic, by=owner, now=now, based_on=edited,
                                changes={"emoji": {"parameters": {"emoji_limit": 3}}})
    assert checklist_revision_current(clinic=clinic).number == "1.3"
