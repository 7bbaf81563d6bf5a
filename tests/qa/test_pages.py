"""The quality pages: the managers' list, CSV and dashboards, the scorecard page with its
override, review and dispute, "My quality", and who may open which."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from inbox.models import ResponseTimer
from qa.checklist import CODES
from qa.models import ItemOverride, Scorecard
from qa.reports import dashboard_period, score_trend, summaries, trend_chart
from qa.services.review import scorecard_override
from tests.clinic.factories import MembershipFactory
from tests.qa.factories import Chat, conversation_for, good_dialogue, scored

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"
HTMX = {"HTTP_HX_REQUEST": "true"}


def bare_price(chat: Chat) -> None:
    chat.patient(f"Здравствуйте, сколько стоит чистка? {SCRIPT}")
    chat.admin("5000 руб.")


@pytest.fixture
def colleague(clinic):
    """A second administrator of the clinic."""
    return MembershipFactory(clinic=clinic, role="administrator",
                             user__first_name="Ольга", user__last_name="Серова").user


@pytest.fixture
def scorecard(clinic, administrator, patient, now) -> Scorecard:
    """The administrator's dialogue: a bare price, no greeting; a low score."""
    chat = Chat(conversation_for(clinic, patient, assignee=administrator), administrator, now)
    bare_price(chat)
    return scored(chat, "not_about_visit")


@pytest.fixture
def good_scorecard(clinic, colleague, patient, now) -> Scorecard:
    """The colleague's dialogue by the standard, an hour later; a high score."""
    chat = Chat(conversation_for(clinic, patient, assignee=colleague), colleague,
                now + timedelta(hours=1))
    good_dialogue(chat)
    return scored(chat, "next_step", "Придёт в четверг в 15:00")


def listed(response) -> list[int]:
    return [s.pk for s in response.context["page"].object_list]


# --- The list and the CSV -------------------------------------------------------------------

def test_the_list_shows_every_scorecard_and_the_filters_narrow_it(
        client, manager, administrator, colleague, scorecard, good_scorecard, now):
    client.force_login(manager)
    url = reverse("qa:index")
    response = client.get(url)
    assert response.status_code == 200
    assert listed(response) == [good_scorecard.pk, scorecard.pk]  # newest first
    assert b"score-low" in response.content  # the bare price scored below the threshold

    assert listed(client.get(url, {"administrator": colleague.pk})) == [good_scorecard.pk]
    assert listed(client.get(url, {"failed_item": "no_bare_price"})) == [scorecard.pk]
    assert listed(client.get(url, {"score_min": "80"})) == [good_scorecard.pk]
    assert listed(client.get(url, {"score_max": "79.9"})) == [scorecard.pk]
    assert listed(client.get(url, {"channel": "whatsapp"})) == []
    assert len(listed(client.get(url, {"channel": "telegram"}))) == 2
    day = now.date().isoformat()
    assert len(listed(client.get(url, {"date_from": day, "date_to": day}))) == 2
    next_day = (now + timedelta(days=1)).date().isoformat()
    assert listed(client.get(url, {"date_from": next_day})) == []
    assert listed(client.get(url, {"review_state": "reviewed"})) == []
    # The review queue: in the queue and not reviewed yet (the bare price is below 80).
    assert listed(client.get(url, {"queue": "on"})) == [scorecard.pk]


def test_a_bad_filter_is_shown_and_the_others_still_apply(client, manager, scorecard,
                                                          good_scorecard, colleague):
    client.force_login(manager)
    response = client.get(reverse("qa:index"), {"score_min": "abc",
                                                "administrator": colleague.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["score_min"]
    assert listed(response) == [good_scorecard.pk]


def test_the_list_pages_by_fifty(client, manager, scorecard, good_scorecard, monkeypatch):
    monkeypatch.setattr("qa.views.PAGE_SIZE", 1)
    client.force_login(manager)
    first = client.get(reverse("qa:index"))
    second = client.get(reverse("qa:index"), {"page": 2})
    assert listed(first) == [good_scorecard.pk] and listed(second) == [scorecard.pk]
    assert b"page=2" in first.content


def test_the_csv_has_a_column_per_item_with_the_effective_result(
        client, manager, administrator, scorecard, good_scorecard, now):
    item = scorecard.items.get(code="greeting")
    scorecard_override(item=item, by=manager, result="pass", comment="", now=now,
                       reason="Контекст диалога")
    scorecard.refresh_from_db()
    client.force_login(manager)
    response = client.get(reverse("qa:export"), {"administrator": administrator.pk})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1  # the same filters as the list
    row = rows[0]
    assert set(CODES) <= set(row)
    assert row["greeting"] == "pass"  # the override, not the engine's "fail"
    assert row["no_bare_price"] == "fail"
    assert Decimal(row["score"]) == scorecard.score
    assert row["conversation_id"] == str(scorecard.conversation_id)
    assert row["administrator"] == administrator.get_full_name()
    assert (row["revision"], row["engine"]) == ("1.2", scorecard.engine_version)
    assert row["date"].startswith(now.date().isoformat())

    # `?format=csv` on the list is the same export.
    same = client.get(reverse("qa:index"), {"format": "csv"})
    assert len(list(csv.reader(io.StringIO(
        b"".join(same.streaming_content).decode("utf-8-sig"))))) == 3  # header + 2


# --- The scorecard page ---------------------------------------------------------------------

def test_the_scorecard_page_escapes_a_script_in_a_patient_message(client, manager, scorecard):
    client.force_login(manager)
    response = client.get(reverse("qa:scorecard", args=[scorecard.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    # The thread and all fifteen verdicts, each failed item pointing at its messages.
    assert html.count('class="qa-item ') == len(CODES)
    price = scorecard.items.get(code="no_bare_price")
    assert f'data-evidence="{" ".join(map(str, price.evidence))}"' in html
    for message_id in price.evidence:
        assert f'id="m{message_id}"' in html
    assert "js/quality.js" in html and "<script>" not in html.split("</head>")[1]


def test_notes_and_automatic_messages_are_marked_in_the_thread(client, manager, clinic,
                                                               administrator, patient, now):
    chat = Chat(conversation_for(clinic, patient, assignee=administrator), administrator, now)
    chat.patient("Здравствуйте!")
    chat.auto("Здравствуйте! Администратор ответит в течение 5 минут.")
    chat.admin("Пациентка постоянная", kind="note")
    chat.admin("Здравствуйте, Мария! Меня зовут Анна. Чем могу помочь?")
    card = scored(chat, "not_about_visit")
    client.force_login(manager)
    html = client.get(reverse("qa:scorecard", args=[card.pk])).content.decode()
    assert 'class="bubble note"' in html and 'class="bubble out auto"' in html


def test_an_override_posted_with_htmx_changes_the_score_and_records_the_reason(
        client, manager, scorecard):
    item = scorecard.items.get(code="no_bare_price")
    before = scorecard.score
    client.force_login(manager)
    response = client.post(
        reverse("qa:item-override", args=[scorecard.pk, item.pk]),
        {"result": "pass", "reason": "Автоматика ошиблась", "comment": "Цена в прайсе, ок"},
        **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="qa-items"')  # only the items panel
    scorecard.refresh_from_db()
    assert scorecard.score > before
    assert f">{scorecard.score:.1f}<".replace(".", ",") in html  # the new score, in Russian
    override = ItemOverride.objects.get(item=item)
    assert (override.manager, override.result, override.reason, override.comment) == (
        manager, "pass", "Автоматика ошиблась", "Цена в прайсе, ок")
    assert "Цена в прайсе, ок" in html and "Автоматика ошиблась" in html
    item.refresh_from_db()
    assert (item.auto_result, item.result) == ("fail", "pass")


def test_an_override_needs_a_reason_from_the_clinics_list(client, manager, scorecard):
    item = scorecard.items.get(code="no_bare_price")
    client.force_login(manager)
    response = client.post(reverse("qa:item-override", args=[scorecard.pk, item.pk]),
                           {"result": "pass", "reason": "Просто так"}, **HTMX)
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not ItemOverride.objects.exists()
    # Without htmx the page is shown again with the error as a message.
    response = client.post(reverse("qa:item-override", args=[scorecard.pk, item.pk]),
                           {"result": "maybe", "reason": "Другое"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("qa:scorecard", args=[scorecard.pk])
    assert list(response.context["messages"])


def test_a_manager_marks_a_scorecard_reviewed(client, manager, scorecard):
    client.force_login(manager)
    response = client.post(reverse("qa:mark-reviewed", args=[scorecard.pk]), **HTMX)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="qa-review"')
    scorecard.refresh_from_db()
    assert (scorecard.review_state, scorecard.reviewed_by) == ("reviewed", manager)
    # Reviewed, it leaves the review queue.
    assert listed(client.get(reverse("qa:index"), {"queue": "on"})) == []


def test_the_history_links_the_earlier_scorecard_of_the_same_dialogue(
        client, manager, owner, clinic, scorecard, now):
    from qa.services.revisions import checklist_revision_save
    from qa.services.scoring import scorecard_rescore

    newer = checklist_revision_save(clinic=clinic, by=owner, now=now,
                                    changes={"emoji": {"enabled": False}})
    new = scorecard_rescore(scorecard=scorecard, revision=newer, by=manager,
                            now=now + timedelta(hours=2))
    client.force_login(manager)
    html = client.get(reverse("qa:scorecard", args=[new.pk])).content.decode()
    assert reverse("qa:scorecard", args=[scorecard.pk]) in html
    old = client.get(reverse("qa:scorecard", args=[scorecard.pk]))
    assert old.status_code == 200 and not old.context["can_override"]  # history is read-only
    assert reverse("qa:scorecard", args=[new.pk]) in old.content.decode()


# --- Who may open what ----------------------------------------------------------------------

def test_an_administrator_gets_403_on_the_manager_pages(client, administrator, scorecard):
    client.force_login(administrator)
    item = scorecard.items.get(code="greeting")
    for url in (reverse("qa:index"), reverse("qa:export"), reverse("qa:team"),
                reverse("qa:team-member", args=[administrator.pk])):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("qa:item-override", args=[scorecard.pk, item.pk]),
                       {"result": "pass", "reason": "Другое"}).status_code == 403
    assert client.post(reverse("qa:mark-reviewed", args=[scorecard.pk])).status_code == 403
    assert not ItemOverride.objects.exists()


def test_an_administrator_opens_their_own_scorecard_but_gets_404_on_a_colleagues(
        client, administrator, scorecard, good_scorecard):
    client.force_login(administrator)
    own = client.get(reverse("qa:scorecard", args=[scorecard.pk]))
    assert own.status_code == 200
    assert "qa-override-form" not in own.content.decode()  # no override for them
    assert client.get(reverse("qa:scorecard", args=[good_scorecard.pk])).status_code == 404
    assert client.post(reverse("qa:dispute", args=[good_scorecard.pk]),
                       {"comment": "Не согласна"}).status_code == 404


def test_another_clinic_gets_404(client, outsider, scorecard):
    client.force_login(outsider)  # an owner, of another clinic
    assert client.get(reverse("qa:scorecard", args=[scorecard.pk])).status_code == 404
    item = scorecard.items.get(code="greeting")
    assert client.post(reverse("qa:item-override", args=[scorecard.pk, item.pk]),
                       {"result": "pass", "reason": "Другое"}).status_code == 404
    assert client.post(reverse("qa:answer", args=[scorecard.pk]),
                       {"comment": "Нет"}).status_code == 404
    assert listed(client.get(reverse("qa:index"))) == []


def test_the_navigation_offers_quality_to_managers_and_my_quality_to_everyone(
        client, administrator, manager):
    client.force_login(administrator)
    html = client.get(reverse("qa:me")).content.decode()
    assert f'href="{reverse("qa:me")}"' in html
    assert f'href="{reverse("qa:index")}"' not in html
    client.force_login(manager)
    html = client.get(reverse("qa:me")).content.decode()
    assert f'href="{reverse("qa:index")}"' in html and f'href="{reverse("qa:me")}"' in html


# --- Acknowledge, dispute, answer -----------------------------------------------------------

def test_the_administrator_disputes_a_comment_and_the_manager_answers(
        client, administrator, manager, scorecard, now):
    item = scorecard.items.get(code="greeting")
    scorecard_override(item=item, by=manager, result="fail", now=now, reason="Другое",
                       comment="Поздоровайтесь и представьтесь в первом ответе")

    client.force_login(administrator)
    mine = client.get(reverse("qa:me"))
    assert mine.status_code == 200
    assert [s.pk for s, _ in mine.context["rows"]] == [scorecard.pk]
    assert "Поздоровайтесь и представьтесь в первом ответе" in mine.content.decode()

    dispute = reverse("qa:dispute", args=[scorecard.pk])
    refused = client.post(dispute, {"comment": " "}, **HTMX)  # a dispute says why
    assert 'role="alert"' in refused.content.decode()
    response = client.post(dispute, {"comment": "Я поздоровалась голосовым"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="qa-feedback"')
    assert "Я поздоровалась голосовым" in html
    scorecard.refresh_from_db()
    assert (scorecard.ack_state, scorecard.ack_comment) == ("disputed",
                                                            "Я поздоровалась голосовым")
    # Only a manager answers.
    assert client.post(reverse("qa:answer", args=[scorecard.pk]),
                       {"comment": "Сама себе"}).status_code == 403

    client.force_login(manager)
    listing = client.get(reverse("qa:index"), {"ack_state": "disputed"})
    assert listed(listing) == [scorecard.pk] and "qa-dispute" in listing.content.decode()
    # A manager cannot dispute someone else's scorecard.
    assert client.post(dispute, {"comment": "Не моё"}).status_code == 403
    response = client.post(reverse("qa:answer", args=[scorecard.pk]),
                           {"comment": "Голосовое не видно пациенту в чате"}, **HTMX)
    assert "Голосовое не видно пациенту в чате" in response.content.decode()
    scorecard.refresh_from_db()
    assert (scorecard.dispute_answer, scorecard.dispute_answered_by) == (
        "Голосовое не видно пациенту в чате", manager)

    client.force_login(administrator)
    assert "Голосовое не видно пациенту в чате" in client.get(reverse("qa:me")).content.decode()
    # After the answer the administrator acknowledges (a plain form post works too).
    response = client.post(reverse("qa:acknowledge", args=[scorecard.pk]), {"comment": ""})
    assert response.status_code == 302
    scorecard.refresh_from_db()
    assert scorecard.ack_state == "acknowledged"
    assert scorecard.ack_comment == "Я поздоровалась голосовым"  # the dispute's reason stays


def test_my_quality_shows_only_my_own_scorecards(client, administrator, colleague, scorecard,
                                                 good_scorecard):
    client.force_login(colleague)
    response = client.get(reverse("qa:me"))
    assert [s.pk for s, _ in response.context["rows"]] == [good_scorecard.pk]
    assert [s.pk for s, _ in client.get(reverse("qa:me"), {"show": "disputed"})
            .context["rows"]] == []


# --- Dashboards -----------------------------------------------------------------------------

def timer(clinic, conversation, kind, started, **fields) -> ResponseTimer:
    return ResponseTimer.objects.create(clinic=clinic, conversation=conversation, kind=kind,
                                        started_at=started, due_at=started, **fields)


def test_the_team_dashboard_draws_the_weekly_trend_and_each_persons_figures(
        client, manager, administrator, colleague, clinic, scorecard, good_scorecard, now):
    for seconds in (60, 120, 600):
        timer(clinic, scorecard.conversation, "first_reply", now, met_at=now,
              met_by=administrator, response_seconds=seconds,
              response_working_seconds=seconds)
    client.force_login(manager)
    with time_machine.travel(now + timedelta(hours=3), tick=False):
        response = client.get(reverse("qa:team"))
        person = client.get(reverse("qa:team-member", args=[administrator.pk]))
    assert response.status_code == 200 and person.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and html.count("<circle") == 3  # one week: the clinic and two dots
    rows = dict(response.context["rows"])
    assert rows[administrator].scorecards == 1 and rows[colleague].scorecards == 1
    assert rows[administrator].response.median_first_reply == 120
    assert rows[administrator].response.p90_first_reply == 600
    assert response.context["clinic_figures"].scorecards == 2
    rates = {r.code: r for r in person.context["rates"]}
    assert rates["no_bare_price"].failed == 1 and rates["no_bare_price"].clinic_failed == 1
    assert rates["no_bare_price"].clinic_applicable == 2
    assert person.context["me"].average_score == float(scorecard.score)


def test_a_team_member_of_another_clinic_is_not_found(client, manager, outsider):
    client.force_login(manager)
    assert client.get(reverse("qa:team-member", args=[outsider.pk])).status_code == 404


def test_the_trend_averages_each_week_of_the_clinics_calendar(clinic, administrator,
                                                              colleague, scorecard,
                                                              good_scorecard, now):
    later = now + timedelta(days=1)
    trend = score_trend(clinic=clinic, now=later)
    period = dashboard_period(clinic=clinic, now=later)
    assert len(trend.weeks) == 12 and trend.weeks[-1] == period.weeks[-1]
    assert trend.weeks[-1].weekday() == 0 and trend.weeks[-1] <= now.date()
    assert trend.clinic[:-1] == (None,) * 11
    expected = float((scorecard.score + good_scorecard.score) / 2)
    assert trend.clinic[-1] == pytest.approx(expected)
    assert trend.people[administrator.pk][-1] == float(scorecard.score)
    chart = trend_chart(weeks=trend.weeks, series=[("a", "series-0", trend.clinic)],
                        threshold=80)
    assert chart.series[0].lines == () and len(chart.series[0].dots) == 1  # one week: a dot
    assert "," not in chart.threshold  # SVG numbers never take the locale's comma


def test_promises_kept_and_disputes_are_counted_for_the_right_person(
        clinic, administrator, colleague, scorecard, now):
    from tests.qa.factories import MessageFactory

    promise = MessageFactory(conversation=scorecard.conversation, direction="out",
                             kind="promise", author=administrator, status="sent",
                             body="Уточню у врача", created_at=now)
    timer(clinic, scorecard.conversation, "promise", now, trigger_message=promise,
          met_at=now + timedelta(minutes=10))
    timer(clinic, scorecard.conversation, "promise", now, trigger_message=promise,
          breached_at=now + timedelta(minutes=15))
    Scorecard.objects.filter(pk=scorecard.pk).update(ack_state="disputed", satisfaction=4)
    figures = summaries(clinic=clinic, now=now + timedelta(hours=1))
    mine = figures.of(administrator.pk)
    assert (mine.response.promises, mine.response.promises_kept) == (2, 1)
    assert mine.promises_kept_share == 50
    assert (mine.disputes, mine.average_satisfaction) == (1, 4)
    assert figures.of(colleague.pk).scorecards == 0
    assert figures.clinic.disputes == 1


# --- Small parts ----------------------------------------------------------------------------

def test_a_reason_is_filled_in_after_translation_and_never_breaks_the_page():
    from types import SimpleNamespace

    from django.utils import translation

    from qa.templatetags.quality import item_reason, item_title

    def item(why: str, **params) -> SimpleNamespace:
        return SimpleNamespace(why=why, params=params, title="Reply structure", code="structure")

    with translation.override("en"):
        assert item_reason(item("The first answer lacks: {missing}.",
                                missing=["offer", "question"])) == (
            "The first answer lacks: offer, question.")
        assert item_reason(item("Stop-word “{word}”.")) == "Stop-word “{word}”."  # no value
        assert item_reason(item("A one-word reply: “{text}”.", text="{0} }")) == (
            "A one-word reply: “{0} }”.")
        assert item_reason(item("Broken {", text="x")) == "Broken {"
        assert item_title(item("")) == "Reply structure"


def test_the_list_and_my_quality_cost_the_same_queries_for_more_scorecards(
        client, manager, administrator, clinic, patient, scorecard, now):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(user, url: str) -> int:
        client.force_login(user)
        client.get(url)  # the session settles
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    listing, mine = count(manager, reverse("qa:index")), count(administrator, reverse("qa:me"))
    for hours in (2, 3, 4):
        chat = Chat(conversation_for(clinic, patient, assignee=administrator), administrator,
                    now + timedelta(hours=hours))
        bare_price(chat)
        card = scored(chat, "not_about_visit")
        scorecard_override(item=card.items.get(code="greeting"), by=manager, result="pass",
                           comment="Ок", reason="Другое", now=now)
    assert count(manager, reverse("qa:index")) <= listing
    assert count(administrator, reverse("qa:me")) <= mine
