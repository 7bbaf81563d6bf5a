"""The owner's checklist editor: saving makes the next revision, which scores new dialogues
while earlier scorecards keep theirs; the quality settings; a manager's re-score with the
newer revision; and who may do which."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django import forms
from django.urls import reverse

from clinic.models import ClinicSettingChange
from qa.checklist import CODES
from qa.models import ChecklistRevision, QaSettings, Scorecard
from qa.selectors import checklist_revision_current
from qa.services.revisions import checklist_revision_save
from tests.qa.factories import Chat, conversation_for, good_dialogue, scored

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def page_data(client) -> dict[str, str]:
    """The editor's form as the page shows it, ready to post back unchanged."""
    form = client.get(reverse("qa:checklist"), **EN).context["form"]
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else str(value)
    return data


def save(client, **changes: str | None) -> object:
    """Post the page's form with `changes` ({"greeting-weight": "2"}; None unticks a box)."""
    data = page_data(client)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return client.post(reverse("qa:checklist"), data, **EN)


def dialogue(clinic, administrator, patient, at) -> Chat:
    chat = Chat(conversation_for(clinic, patient, assignee=administrator), administrator, at)
    good_dialogue(chat)
    return chat


def bare_price(clinic, administrator, patient, at) -> Chat:
    chat = Chat(conversation_for(clinic, patient, assignee=administrator), administrator, at)
    chat.patient("Здравствуйте, сколько стоит чистка?")
    chat.admin("5000 руб.")
    return chat


# --- Saving ---------------------------------------------------------------------------------

def test_saving_makes_revision_1_3_which_scores_the_next_dialogue_and_earlier_keep_1_2(
        client, clinic, owner, administrator, patient, now):
    earlier = scored(dialogue(clinic, administrator, patient, now))
    assert earlier.revision.number == "1.2"

    client.force_login(owner)
    response = save(client, **{"greeting-weight": "2.5", "greeting-critical": "on",
                               "emoji-emoji_limit": "1",
                               "stop_words-stop_words": "короче\n  ждите \n\n",
                               "literacy-dictionary": "Стоматокомфорт\nКТ-сканер"})
    assert response.status_code == 302 and response["Location"] == reverse("qa:checklist")
    page = client.get(reverse("qa:checklist"), **EN).content.decode()
    assert ("Saved as revision 1.3 — new dialogues are scored with it; earlier scorecards "
            "keep their revision.") in page

    revision = checklist_revision_current(clinic=clinic)
    assert (revision.number, revision.created_by) == ("1.3", owner)
    items = {i.code: i for i in revision.items.all()}
    assert items["greeting"].weight == Decimal("2.50") and items["greeting"].critical
    assert items["emoji"].parameters == {"emoji_limit": 1}
    assert items["stop_words"].parameters == {"stop_words": ["короче", "ждите"]}
    assert items["literacy"].parameters == {"dictionary": ["Стоматокомфорт", "КТ-сканер"]}
    assert items["first_reply_time"].parameters == {}  # left empty: the clinic's standard
    assert ClinicSettingChange.objects.filter(field="qa:checklist_revision").count() == 1

    later = scored(dialogue(clinic, administrator, patient, now + timedelta(hours=1)))
    assert later.revision == revision
    assert later.items.get(code="greeting").weight == Decimal("2.50")
    assert later.rules["emoji_limit"] == 1
    assert later.rules["stop_words"] == ["короче", "ждите"]
    assert {"Стоматокомфорт", "КТ-сканер"} <= set(later.rules["dictionary"])
    earlier.refresh_from_db()
    assert earlier.revision.number == "1.2" and earlier.is_current
    assert earlier.items.get(code="greeting").weight == 1

    # The revisions list: both, newest first, with how many scorecards each scored.
    listed = client.get(reverse("qa:checklist")).context["revisions"]
    assert [(r.number, r.is_current, r.scorecard_count) for r in listed] == [
        ("1.3", True, 1), ("1.2", False, 1)]


def test_a_disabled_item_is_left_out_of_new_scorecards(client, clinic, owner, administrator,
                                                        patient, now):
    earlier = scored(dialogue(clinic, administrator, patient, now))
    client.force_login(owner)
    assert save(client, **{"need_discovery-enabled": None}).status_code == 302
    later = scored(dialogue(clinic, administrator, patient, now + timedelta(hours=1)))
    assert later.revision.number == "1.3"
    assert "need_discovery" not in {i.code for i in later.items.all()}
    assert later.items.count() == len(CODES) - 1
    assert earlier.items.filter(code="need_discovery").exists()


def test_a_failed_critical_item_makes_the_dialogue_score_0(client, clinic, owner,
                                                           administrator, patient, now):
    client.force_login(owner)
    assert save(client, **{"no_bare_price-critical": "on"}).status_code == 302
    card = scored(bare_price(clinic, administrator, patient, now), "not_about_visit")
    assert card.items.get(code="no_bare_price").result == "fail"
    assert card.score == Decimal("0.0") and card.critical_failed


def test_an_emptied_parameter_follows_the_clinics_standard_again(client, clinic, owner):
    checklist_revision_save(clinic=clinic, by=owner, now=clinic.created_at,
                            changes={"emoji": {"parameters": {"emoji_limit": 0}}})
    client.force_login(owner)
    assert page_data(client)["emoji-emoji_limit"] == "0"  # a zero is shown, not taken as empty
    assert save(client, **{"emoji-emoji_limit": ""}).status_code == 302
    current = checklist_revision_current(clinic=clinic)
    assert current.number == "1.4" and current.items.get(code="emoji").parameters == {}


def test_saving_nothing_changed_makes_no_revision(client, clinic, owner):
    client.force_login(owner)
    response = save(client)
    assert response.status_code == 302
    assert ChecklistRevision.objects.filter(clinic=clinic).count() == 1
    assert "revision 1.2 stays current" in client.get(reverse("qa:checklist"), **EN
                                                      ).content.decode()


@pytest.mark.parametrize(("field", "value", "error"), [
    ("greeting-weight", "0", "A weight must be above 0 and at most 999.99."),
    ("greeting-weight", "-1", "A weight must be above 0 and at most 999.99."),
    ("greeting-weight", "", "This field is required."),
    ("emoji-emoji_limit", "-1", "The emoji limit must be a whole number from 0 to 50."),
    ("emoji-emoji_limit", "51", "The emoji limit must be a whole number from 0 to 50."),
    ("first_reply_time-minutes", "0", "Minutes must be a number from 1 to 1440."),
    ("name_used-name_style", "nickname",
     "Select a valid choice. nickname is not one of the available choices."),
])
def test_invalid_input_changes_nothing_and_is_shown_next_to_the_field(client, clinic, owner,
                                                                      field, value, error):
    client.force_login(owner)
    response = save(client, **{field: value, "emoji-enabled": None})  # with a valid change
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors[field] == [error]
    html = response.content.decode()
    assert error in html and "Nothing was saved" in html
    assert 'class="qa-checklist-row qa-item-off"' in html  # the owner's values are kept
    assert ChecklistRevision.objects.filter(clinic=clinic).count() == 1
    assert not ClinicSettingChange.objects.filter(clinic=clinic).exists()


def test_disabling_every_item_is_refused(client, clinic, owner):
    client.force_login(owner)
    response = save(client, **{f"{code}-enabled": None for code in CODES})
    assert response.status_code == 200
    assert "At least one item of the checklist must be enabled." in response.content.decode()
    assert ChecklistRevision.objects.filter(clinic=clinic).count() == 1


def test_saving_over_a_revision_saved_meanwhile_is_refused_and_keeps_the_values(
        client, clinic, owner, now):
    client.force_login(owner)
    stale = page_data(client)
    checklist_revision_save(clinic=clinic, by=owner, now=now,
                            changes={"reply_time": {"weight": 3}})  # another tab
    stale["emoji-emoji_limit"] = "1"
    response = client.post(reverse("qa:checklist"), stale, **EN)
    assert response.status_code == 200
    assert "Revision 1.3 was saved while you were editing" in response.content.decode()
    assert checklist_revision_current(clinic=clinic).number == "1.3"
    form = response.context["form"]
    assert form["emoji-emoji_limit"].value() == "1"
    assert form["base_revision"].value() == str(checklist_revision_current(clinic=clinic).pk)


# --- The quality settings -------------------------------------------------------------------

def test_the_owner_changes_the_review_queue_and_the_override_reasons(client, clinic, owner):
    client.force_login(owner)
    url = reverse("qa:checklist-settings")
    response = client.post(url, {"review_threshold": "70", "review_share": "25",
                                 "override_reasons": "Автоматика ошиблась\n\n Другое "})
    assert response.status_code == 302
    settings = QaSettings.objects.get(clinic=clinic)
    assert (settings.review_threshold, settings.review_share) == (70, 25)
    assert settings.override_reasons == ["Автоматика ошиблась", "Другое"]
    assert ClinicSettingChange.objects.filter(field="qa:review_share").exists()

    bad = client.post(url, {"review_threshold": "70", "review_share": "101",
                            "override_reasons": " \n"}, **EN)
    assert bad.status_code == 200
    errors = bad.context["settings_form"].errors
    assert set(errors) == {"review_share", "override_reasons"}
    assert "Keep at least one reason for overriding a verdict." in bad.content.decode()
    settings.refresh_from_db()
    assert settings.review_share == 25


# --- Who may ------------------------------------------------------------------------------

def test_a_manager_reads_the_checklist_but_cannot_save(client, clinic, manager):
    client.force_login(manager)
    page = client.get(reverse("qa:checklist"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="checklist-form"' not in html and 'data-testid="qa-settings-form"' \
        not in html
    assert html.count('class="qa-checklist-row') == len(CODES)
    data = {"base_revision": checklist_revision_current(clinic=clinic).pk,
            "greeting-weight": "5"}
    assert client.post(reverse("qa:checklist"), data).status_code == 403
    assert client.post(reverse("qa:checklist-settings"),
                       {"review_threshold": "1", "review_share": "1",
                        "override_reasons": "x"}).status_code == 403
    assert ChecklistRevision.objects.filter(clinic=clinic).count() == 1
    assert QaSettings.objects.get(clinic=clinic).review_threshold == 80


def test_an_administrator_cannot_open_the_checklist(client, clinic, administrator):
    client.force_login(administrator)
    revision = checklist_revision_current(clinic=clinic)
    assert client.get(reverse("qa:checklist")).status_code == 403
    assert client.get(reverse("qa:checklist-revision", args=[revision.pk])).status_code == 403


def test_a_revision_is_shown_read_only_and_another_clinics_is_not_found(
        client, clinic, owner, outsider, other_clinic, now):
    old = checklist_revision_current(clinic=clinic)
    checklist_revision_save(clinic=clinic, by=owner, now=now,
                            changes={"emoji": {"parameters": {"emoji_limit": 1}}})
    client.force_login(owner)
    response = client.get(reverse("qa:checklist-revision", args=[old.pk]), **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert "revision 1.2" in html and "<form" not in html.split("</nav>", 2)[-1]
    emoji = next(i for i in response.context["revision"].items.all() if i.code == "emoji")
    assert emoji.shown_parameters == [("Emoji per message, at most", "2", True)]

    theirs = checklist_revision_current(clinic=other_clinic)
    assert client.get(reverse("qa:checklist-revision", args=[theirs.pk])).status_code == 404


def test_the_editor_is_reachable_from_settings_and_from_quality(client, owner):
    client.force_login(owner)
    url = reverse("qa:checklist")
    assert f'href="{url}"' in client.get(reverse("clinic:settings")).content.decode()
    assert f'href="{url}"' in client.get(reverse("qa:index")).content.decode()


# --- Re-scoring with a newer revision -------------------------------------------------------

def test_a_manager_rescores_with_the_newer_revision_and_the_old_scorecard_stays(
        client, clinic, owner, manager, administrator, patient, now):
    old = scored(bare_price(clinic, administrator, patient, now), "not_about_visit")
    client.force_login(manager)
    page = client.get(reverse("qa:scorecard", args=[old.pk]), **EN).content.decode()
    assert 'data-testid="rescore"' not in page  # scored with the current revision

    newer = checklist_revision_save(clinic=clinic, by=owner, now=now,
                                    changes={"no_bare_price": {"critical": True}})
    page = client.get(reverse("qa:scorecard", args=[old.pk]), **EN).content.decode()
    assert "Re-score with revision 1.3" in page

    response = client.post(reverse("qa:rescore", args=[old.pk]), {"revision": newer.pk})
    new = Scorecard.objects.get(is_current=True)
    assert response.status_code == 302
    assert response["Location"] == reverse("qa:scorecard", args=[new.pk])
    assert new.pk != old.pk and new.revision == newer and new.window_id == old.window_id
    assert new.score == Decimal("0.0")  # the bare price is critical in 1.3
    old.refresh_from_db()
    assert (old.is_current, old.superseded_by, old.revision.number) == (False, new, "1.2")
    assert old.items.count() == len(CODES)

    page = client.get(reverse("qa:scorecard", args=[new.pk]), **EN).content.decode()
    assert reverse("qa:scorecard", args=[old.pk]) in page  # linked from the history
    assert 'data-testid="rescore"' not in page
    old_page = client.get(reverse("qa:scorecard", args=[old.pk]), **EN).content.decode()
    assert 'data-testid="rescore"' not in old_page  # history is not re-scored
    assert reverse("qa:scorecard", args=[new.pk]) in old_page

    again = client.post(reverse("qa:rescore", args=[old.pk]), {"revision": newer.pk})
    assert again.status_code == 302 and Scorecard.objects.count() == 2


def test_rescoring_is_for_managers_and_for_the_clinics_own_revisions(
        client, clinic, owner, manager, administrator, patient, other_clinic, now):
    card = scored(bare_price(clinic, administrator, patient, now), "not_about_visit")
    newer = checklist_revision_save(clinic=clinic, by=owner, now=now,
                                    changes={"greeting": {"enabled": False}})
    client.force_login(administrator)  # their own scorecard
    page = client.get(reverse("qa:scorecard", args=[card.pk])).content.decode()
    assert 'data-testid="rescore"' not in page
    assert client.post(reverse("qa:rescore", args=[card.pk]),
                       {"revision": newer.pk}).status_code == 403

    client.force_login(manager)
    theirs = checklist_revision_current(clinic=other_clinic)
    for revision in (theirs.pk, "x", ""):
        response = client.post(reverse("qa:rescore", args=[card.pk]), {"revision": revision})
        assert response.status_code == 302
        assert response["Location"] == reverse("qa:scorecard", args=[card.pk])
    assert Scorecard.objects.count() == 1


def test_a_weight_is_shown_without_trailing_zeros_in_the_readers_format():
    from django.utils import translation

    from qa.templatetags.checklist_editor import plain_number

    with translation.override("ru"):
        assert [plain_number(Decimal(x)) for x in ("2.50", "1.00", "10.00", "0.05")] == [
            "2,5", "1", "10", "0,05"]
    with translation.override("en"):
        assert plain_number(Decimal("2.50")) == "2.5"
