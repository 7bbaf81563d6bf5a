"""Scorecards: one per resolved dialogue, however often the task runs; updated after a reopen
with the manager's overrides kept; re-scored with a newer revision, the old one in history."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db.models import RestrictedError

from inbox.models import Conversation, Message
from qa.checklist import CODES, ENGINE_VERSION
from qa.models import ItemOverride, Scorecard, ScorecardItem
from qa.selectors import checklist_revision_current, scorecard_history
from qa.services.access import QaRefused
from qa.services.review import scorecard_acknowledge, scorecard_override
from qa.services.revisions import checklist_revision_save, qa_settings_update
from qa.services.scoring import scorecard_build, scorecard_rescore, scorecards_process_due
from qa.tasks import scorecard_build_task, scorecards_process_due_task
from tests.clinic.factories import MembershipFactory
from tests.qa.factories import Chat, conversation_for, good_dialogue, scored

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(clinic, administrator, patient, now):
    return Chat(conversation_for(clinic, patient, assignee=administrator), administrator, now)


def bare_price_dialogue(chat: Chat) -> None:
    chat.patient("Здравствуйте, сколько стоит чистка?")
    chat.admin("5000 руб.")


def test_a_resolved_dialogue_gets_exactly_one_scorecard_when_the_task_runs_twice(
        chat, administrator, clinic):
    good_dialogue(chat)
    window = chat.resolve("next_step", "Придёт в четверг в 15:00")
    with time_machine.travel(chat.at + timedelta(seconds=3), tick=False):
        scorecard_build_task(window.pk)
        scorecard_build_task(window.pk)  # a redelivered task: nothing new
    scorecard = Scorecard.objects.get()
    assert scorecard.window == window and scorecard.is_current
    assert scorecard.conversation == chat.conversation and scorecard.clinic == clinic
    assert scorecard.administrator == administrator and scorecard.channel_kind == "telegram"
    assert (scorecard.outcome, scorecard.next_step) == ("next_step", "Придёт в четверг в 15:00")
    assert scorecard.revision == checklist_revision_current(clinic=clinic)
    assert scorecard.engine_version == ENGINE_VERSION
    assert scorecard.scored_at == chat.at + timedelta(seconds=3)
    assert (scorecard.first_message_id, scorecard.last_message_id) == (
        window.first_message_id, window.last_message_id)
    items = list(scorecard.items.all())
    assert [i.code for i in items] == list(CODES)
    ids = set(Message.objects.filter(conversation=chat.conversation).values_list("pk", flat=True))
    assert all(set(i.evidence) <= ids for i in items)
    first_reply = next(i for i in items if i.code == "first_reply_time")
    assert first_reply.result == first_reply.auto_result == "pass" and first_reply.evidence
    assert first_reply.why and str(first_reply.params["limit"]) == "5"
    assert scorecard.score == scorecard.automatic_score and scorecard.score > Decimal(80)


def test_a_resolve_queues_the_scoring_task_after_commit(chat, monkeypatch,
                                                        django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr("qa.receivers.enqueue", lambda task, *args: queued.append((task, args)))
    good_dialogue(chat)
    with django_capture_on_commit_callbacks(execute=True):
        window = chat.resolve()
    assert queued == [(scorecard_build_task, (window.pk,))]


def test_reopening_and_resolving_again_updates_the_scorecard_and_keeps_the_override(
        chat, manager):
    bare_price_dialogue(chat)
    scorecard = scored(chat, "not_about_visit")
    greeting = scorecard.items.get(code="greeting")
    assert greeting.result == "fail"
    scorecard_override(item=greeting, by=manager, result="pass", comment="Поздоровалась голосом",
                       reason="Контекст диалога", now=chat.at)

    chat.reopen()
    later = chat.admin("Мария, это цена за всю гигиену. Записать вас на пятницу?")
    again = scored(chat, "next_step", "Ответит до пятницы")

    assert again.pk == scorecard.pk and Scorecard.objects.count() == 1
    assert again.window_version == 2 and again.last_message_id == later.pk
    assert again.outcome == "next_step"
    greeting = again.items.get(code="greeting")
    assert (greeting.auto_result, greeting.result) == ("fail", "pass")  # the override stays
    assert greeting.overrides.get().comment == "Поздоровалась голосом"
    assert again.items.get(code="result").result == "pass"  # the new outcome was scored
    assert ScorecardItem.objects.count() == len(CODES)


def test_a_dialogue_that_changes_hands_drops_the_first_administrators_answer(
        chat, clinic, administrator):
    bare_price_dialogue(chat)
    scorecard = scored(chat, "not_about_visit")
    scorecard_acknowledge(scorecard=scorecard, by=administrator, comment="Учту", now=chat.at)

    chat.reopen()
    other = MembershipFactory(clinic=clinic, role="administrator").user
    Conversation.objects.filter(pk=chat.conversation.pk).update(assignee=other)
    chat.admin("Мария, это цена за всю гигиену. Записать вас на пятницу?", author=other)
    again = scored(chat, "next_step", "Ответит до пятницы")

    assert again.pk == scorecard.pk and again.administrator == other
    assert (again.ack_state, again.ack_comment, again.ack_at) == ("none", "", None)


def test_a_failed_critical_item_makes_the_score_zero(chat, clinic, owner, now):
    checklist_revision_save(clinic=clinic, by=owner, now=now,
                            changes={"no_bare_price": {"critical": True}})
    bare_price_dialogue(chat)
    scorecard = scored(chat, "not_about_visit")
    assert scorecard.revision.number == "1.3"
    assert scorecard.score == scorecard.automatic_score == Decimal("0.0")
    assert scorecard.critical_failed and scorecard.in_review_queue


def percent(passed: Decimal | int, applicable: Decimal | int) -> Decimal:
    return (Decimal(passed) * 100 / Decimal(applicable)).quantize(Decimal("0.1"))


def counts(scorecard: Scorecard) -> tuple[int, int]:
    """(passed, applicable) items of a checklist whose items all weigh 1."""
    results = [item.result for item in scorecard.items.all()]
    return results.count("pass"), len(results) - results.count("na")


def test_an_override_changes_the_score_and_the_latest_one_wins(chat, manager):
    bare_price_dialogue(chat)
    scorecard = scored(chat, "not_about_visit")
    passed, applicable = counts(scorecard)
    assert scorecard.score == scorecard.automatic_score == percent(passed, applicable)
    item = scorecard.items.get(code="no_bare_price")
    assert item.result == "fail"  # "5000 руб." and nothing more

    scorecard_override(item=item, by=manager, result="pass", comment="", now=chat.at,
                       reason="Автоматика ошиблась")
    scorecard.refresh_from_db()
    assert scorecard.score == percent(passed + 1, applicable)
    assert scorecard.automatic_score == percent(passed, applicable)

    scorecard_override(item=item, by=manager, result="na", comment="Не считаем", now=chat.at,
                       reason="Исключение по согласованию")
    scorecard.refresh_from_db()
    item.refresh_from_db()
    assert (item.auto_result, item.result) == ("fail", "na")
    assert scorecard.score == percent(passed, applicable - 1)
    assert ItemOverride.objects.filter(item=item).count() == 2


def test_weights_count_in_the_score(chat, clinic, owner, now):
    checklist_revision_save(clinic=clinic, by=owner, now=now,
                            changes={"price_given": {"weight": "3"}})
    bare_price_dialogue(chat)
    scorecard = scored(chat, "not_about_visit")
    assert scorecard.items.get(code="price_given").result == "pass"
    passed, applicable = counts(scorecard)
    assert scorecard.score == percent(passed + 2, applicable + 2)  # it counts three times


def test_no_reply_needed_without_a_staff_message_is_not_scored(chat):
    chat.patient("Спасибо за вчерашний приём!")
    chat.auto("Спасибо! Мы передадим врачу.")
    window = chat.resolve("no_reply_needed")
    assert scorecard_build(window_id=window.pk, now=chat.at) is None
    assert scorecards_process_due(now=chat.at + timedelta(minutes=5)) == 0
    assert not Scorecard.objects.exists()


def test_the_backstop_scores_a_dialogue_whose_task_was_lost_once(chat):
    good_dialogue(chat)
    window = chat.resolve()  # the task is never run
    assert scorecards_process_due(now=chat.at) == 0  # the task still has its minute
    with time_machine.travel(chat.at + timedelta(minutes=2), tick=False):
        scorecards_process_due_task()
        scorecards_process_due_task()
    assert Scorecard.objects.get().window == window
    assert scorecards_process_due(now=chat.at + timedelta(minutes=3)) == 0


def test_a_reopened_dialogue_waits_for_its_new_resolve(chat):
    good_dialogue(chat)
    window = chat.resolve()
    chat.reopen()
    assert scorecard_build(window_id=window.pk, now=chat.at) is None
    chat.resolve()
    assert scorecard_build(window_id=window.pk, now=chat.at) is not None


def test_rescoring_with_a_newer_revision_keeps_the_old_scorecard_in_history(
        chat, clinic, owner, manager, now):
    bare_price_dialogue(chat)
    old = scored(chat, "not_about_visit")
    newer = checklist_revision_save(clinic=clinic, by=owner, now=now + timedelta(days=1),
                                    changes={"greeting": {"enabled": False}})
    new = scorecard_rescore(scorecard=old, revision=newer, by=manager,
                            now=now + timedelta(days=1))

    old.refresh_from_db()
    assert (old.is_current, old.superseded_by, old.revision.number) == (False, new, "1.2")
    assert new.is_current and new.revision == newer and new.window_id == old.window_id
    assert not new.items.filter(code="greeting").exists()
    assert list(scorecard_history(scorecard=new, user=manager)) == [old, new]
    assert list(scorecard_history(scorecard=new, user=old.administrator)) == [old, new]
    assert old.items.count() == len(CODES)  # history keeps its items
    with pytest.raises(QaRefused):
        scorecard_rescore(scorecard=new, revision=newer, by=manager, now=now)  # not newer
    with pytest.raises(QaRefused):
        scorecard_rescore(scorecard=old, revision=newer, by=manager, now=now)  # history
    # The task running again for the window finds the current scorecard up to date.
    assert scorecard_build(window_id=old.window_id, now=now) == new


def test_the_review_queue_takes_scores_below_the_threshold_and_a_share_of_the_rest(
        clinic, administrator, owner, patient, now):
    def scorecard(*, good: bool) -> Scorecard:
        chat = Chat(conversation_for(clinic, patient, assignee=administrator), administrator,
                    now)
        (good_dialogue if good else bare_price_dialogue)(chat)
        return scored(chat, "next_step" if good else "not_about_visit")

    qa_settings_update(clinic=clinic, changed_by=owner, now=now,
                       changes={"review_threshold": 80, "review_share": 0})
    assert scorecard(good=False).in_review_queue  # 50 < 80
    assert not scorecard(good=True).in_review_queue
    qa_settings_update(clinic=clinic, changed_by=owner, now=now,
                       changes={"review_share": 100})
    assert scorecard(good=True).in_review_queue


def test_a_scored_message_is_kept_and_deleting_a_clinic_takes_its_scorecards(chat, clinic):
    good_dialogue(chat)
    scorecard = scored(chat)
    with pytest.raises(RestrictedError):
        Message.objects.filter(pk=scorecard.first_message_id).delete()
    with pytest.raises(RestrictedError):
        scorecard.revision.delete()
    clinic.delete()
    assert not Scorecard.objects.exists() and not ItemOverride.objects.exists()
