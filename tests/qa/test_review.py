"""Who may do what with a scorecard, and who sees which: managers override, review and answer;
only the administrator whose dialogue it is acknowledges or disputes; every read is the
clinic's own, and an administrator reads only their own scorecards."""

from decimal import Decimal

import pytest

from qa.models import Scorecard
from qa.selectors import (
    ScorecardFilters,
    scorecard_get_for_user,
    scorecard_list,
    scorecard_list_for_user,
)
from qa.services.access import QaForbidden, QaRefused
from qa.services.review import (
    scorecard_acknowledge,
    scorecard_dispute,
    scorecard_dispute_answer,
    scorecard_mark_reviewed,
    scorecard_override,
)
from qa.services.scoring import scorecard_rescore
from tests.clinic.factories import MembershipFactory
from tests.qa.factories import Chat, conversation_for, good_dialogue, scored

pytestmark = pytest.mark.django_db


@pytest.fixture
def scorecard(clinic, administrator, patient, now) -> Scorecard:
    chat = Chat(conversation_for(clinic, patient, assignee=administrator), administrator, now)
    chat.patient("Здравствуйте, сколько стоит чистка?")
    chat.admin("5000 руб.")
    return scored(chat, "not_about_visit")


@pytest.fixture
def colleague(clinic):
    """Another administrator of the same clinic."""
    return MembershipFactory(clinic=clinic, role="administrator").user


def test_only_a_manager_or_the_owner_overrides_reviews_and_rescores(
        scorecard, administrator, colleague, outsider, manager, owner, now):
    item = scorecard.items.get(code="greeting")
    for person in (administrator, colleague, outsider):
        with pytest.raises(QaForbidden):
            scorecard_override(item=item, by=person, result="pass", comment="",
                               reason="Другое", now=now)
        with pytest.raises(QaForbidden):
            scorecard_mark_reviewed(scorecard=scorecard, by=person, now=now)
        with pytest.raises(QaForbidden):
            scorecard_rescore(scorecard=scorecard, revision=scorecard.revision, by=person,
                              now=now)
    assert not item.overrides.exists()
    scorecard_override(item=item, by=owner, result="pass", comment="", reason="Другое", now=now)
    assert scorecard_mark_reviewed(scorecard=scorecard, by=manager, now=now)
    assert not scorecard_mark_reviewed(scorecard=scorecard, by=owner, now=now)  # already
    scorecard.refresh_from_db()
    assert (scorecard.review_state, scorecard.reviewed_by) == ("reviewed", manager)


def test_an_override_needs_a_result_and_a_reason_from_the_clinics_list(scorecard, manager,
                                                                       now):
    item = scorecard.items.get(code="greeting")
    with pytest.raises(QaRefused):
        scorecard_override(item=item, by=manager, result="pass", comment="", reason="Так надо",
                           now=now)
    with pytest.raises(QaRefused):
        scorecard_override(item=item, by=manager, result="maybe", comment="",
                           reason="Другое", now=now)
    assert not item.overrides.exists()


def test_only_the_scorecards_administrator_acknowledges_or_disputes(
        scorecard, administrator, colleague, manager, now):
    for person in (colleague, manager):
        with pytest.raises(QaForbidden):
            scorecard_dispute(scorecard=scorecard, by=person, comment="Не согласна", now=now)
        with pytest.raises(QaForbidden):
            scorecard_acknowledge(scorecard=scorecard, by=person, comment="", now=now)
    with pytest.raises(QaRefused):
        scorecard_dispute(scorecard=scorecard, by=administrator, comment=" ", now=now)


def test_a_dispute_is_answered_by_a_manager_then_acknowledged(scorecard, administrator,
                                                              manager, colleague, now):
    with pytest.raises(QaRefused):  # nothing to answer yet
        scorecard_dispute_answer(scorecard=scorecard, by=manager, comment="Ответ", now=now)
    scorecard_dispute(scorecard=scorecard, by=administrator, comment="Цену уточнял врач",
                      now=now)
    with pytest.raises(QaRefused):
        scorecard_dispute(scorecard=scorecard, by=administrator, comment="Ещё раз", now=now)
    with pytest.raises(QaForbidden):
        scorecard_dispute_answer(scorecard=scorecard, by=colleague, comment="Да", now=now)
    scorecard_dispute_answer(scorecard=scorecard, by=manager, now=now,
                             comment="Цену всё равно пишем с продолжением")
    scorecard_acknowledge(scorecard=scorecard, by=administrator, comment="Поняла", now=now)
    scorecard.refresh_from_db()
    assert (scorecard.ack_state, scorecard.ack_comment) == ("acknowledged", "Поняла")
    assert scorecard.dispute_answer == "Цену всё равно пишем с продолжением"
    assert scorecard.dispute_answered_by == manager
    with pytest.raises(QaRefused):
        scorecard_acknowledge(scorecard=scorecard, by=administrator, comment="", now=now)


def test_a_scorecard_is_read_only_in_its_clinic_and_by_its_administrator_or_managers(
        scorecard, administrator, colleague, manager, outsider, other_clinic):
    assert scorecard_get_for_user(user=manager, clinic=scorecard.clinic,
                                  pk=scorecard.pk) == scorecard
    own = scorecard_get_for_user(user=administrator, clinic=scorecard.clinic, pk=scorecard.pk)
    assert [i.code for i in own.items.all()][:2] == ["first_reply_time", "reply_time"]
    with pytest.raises(Scorecard.DoesNotExist):
        scorecard_get_for_user(user=colleague, clinic=scorecard.clinic, pk=scorecard.pk)
    with pytest.raises(Scorecard.DoesNotExist):  # an owner, of another clinic
        scorecard_get_for_user(user=outsider, clinic=other_clinic, pk=scorecard.pk)
    with pytest.raises(Scorecard.DoesNotExist):  # not a member of the clinic asked for
        scorecard_get_for_user(user=outsider, clinic=scorecard.clinic, pk=scorecard.pk)
    assert list(scorecard_list_for_user(user=colleague, clinic=scorecard.clinic)) == []
    assert list(scorecard_list_for_user(user=administrator, clinic=scorecard.clinic)) == [
        scorecard]
    assert not scorecard_list(clinic=other_clinic).exists()


def test_the_managers_filters(scorecard, clinic, administrator, colleague, patient, now):
    chat = Chat(conversation_for(clinic, patient, assignee=colleague), colleague, now)
    good_dialogue(chat)
    good = scored(chat)

    def found(**filters) -> list[Scorecard]:
        return list(scorecard_list(clinic=clinic, filters=ScorecardFilters(**filters)))

    assert found() == [good, scorecard]  # newest first
    assert found(administrator_id=administrator.pk) == [scorecard]
    assert found(failed_item="no_bare_price") == [scorecard]
    assert found(score_min=Decimal(80)) == [good]
    assert found(score_max=Decimal(50)) == [scorecard]
    assert found(channel_kind="whatsapp") == []
    assert found(review_state="to_review") == [good, scorecard]
    assert found(scored_from=good.scored_at) == [good]


def test_the_scorecard_page_costs_the_same_queries_however_many_overrides(
        scorecard, manager, django_assert_max_num_queries, now):
    def load() -> None:
        loaded = scorecard_get_for_user(user=manager, clinic=scorecard.clinic, pk=scorecard.pk)
        for item in loaded.items.all():
            list(item.overrides.all())
            [o.manager for o in item.overrides.all()]

    with django_assert_max_num_queries(5) as few:
        load()
    for item in scorecard.items.all()[:5]:
        scorecard_override(item=item, by=manager, result="pass", comment="",
                           reason="Другое", now=now)
    with django_assert_max_num_queries(len(few.captured_queries)):
        load()
