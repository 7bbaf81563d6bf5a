from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from clinic.models import Patient
from inbox.models import ContactIdentity, Conversation, DialogueWindow, Message, ResponseTimer
from qa.models import AckState, ItemOverride, Scorecard
from scheduling.models import Appointment
from tests.conftest import MOSCOW


def _counts():
    return tuple(model.objects.count() for model in (
        Patient, ContactIdentity, Conversation, Message, ResponseTimer, DialogueWindow,
        Scorecard, ItemOverride, Appointment))


def _seed(monkeypatch, capsys, at: datetime) -> str:
    monkeypatch.setattr("clinic.clock.now", lambda: at)
    call_command("seed_demo", "--force", "--patients", "20")
    call_command("seed_demo_channels", "--force")
    call_command("seed_demo_scheduling", "--force")
    capsys.readouterr()
    call_command("seed_demo_quality", "--force")
    return capsys.readouterr().out


@pytest.fixture
def seeded(db, monkeypatch, capsys, now):
    return now, _seed(monkeypatch, capsys, now)


def test_it_scores_dialogues_of_every_demo_administrator_over_six_weeks(seeded):
    now, out = seeded
    cards = list(Scorecard.objects.filter(is_current=True).select_related("administrator"))
    assert 12 <= len(cards) <= 16
    assert "scored dialogues" in out
    per_admin = {}
    for card in cards:
        per_admin.setdefault(card.administrator.username, []).append(card)
    assert set(per_admin) == {"anna", "irina", "dmitry"}
    assert all(len(own) >= 4 for own in per_admin.values())
    # Spread over the weeks, in the past, each scored right after its resolve.
    starts = sorted(card.window_start for card in cards)
    assert starts[-1] - starts[0] >= timedelta(weeks=4)
    assert now - starts[0] <= timedelta(weeks=7)
    for card in cards:
        assert card.window_end < card.scored_at < now
        assert card.scored_at - card.window.resolved_at < timedelta(minutes=5)
        assert card.window.first_message.direction == "in"
    outcomes = {card.outcome for card in cards}
    assert {"booked", "next_step", "not_about_visit"} <= outcomes
    booked = [card for card in cards if card.outcome == "booked"]
    assert all(card.appointment_id for card in booked)
    assert ResponseTimer.objects.filter(breached_at__isnull=False).exists()  # late, broken


def test_scores_vary_and_show_the_typical_mistakes(seeded):
    cards = Scorecard.objects.filter(is_current=True)
    scores = [card.score for card in cards]
    assert len(set(scores)) >= 5
    assert max(scores) == 100 and min(scores) < 70
    failed = set(cards.filter(items__result="fail").values_list("items__code", flat=True))
    assert {"first_reply_time", "promise_kept", "name_used", "no_bare_price", "stop_words",
            "literacy", "negativity_handled"} <= failed
    passed = set(cards.filter(items__result="pass").values_list("items__code", flat=True))
    assert {"promise_kept", "negativity_handled", "result"} <= passed


def test_a_manager_overrode_a_verdict_and_an_administrator_disputed_one(seeded):
    override = ItemOverride.objects.select_related("item__scorecard", "manager").get()
    assert override.manager.username == "manager" and override.comment
    card = override.item.scorecard
    assert card.score > card.automatic_score
    disputed = Scorecard.objects.select_related("administrator").get(
        ack_state=AckState.DISPUTED)
    assert disputed.ack_comment and disputed.administrator.username == "dmitry"

    user = get_user_model().objects.get
    client = Client()
    client.force_login(user(username="dmitry"))
    mine = client.get("/quality/me/").content.decode()
    assert disputed.ack_comment[:40] in mine
    client.force_login(user(username="irina"))
    assert override.comment[:40] in client.get("/quality/me/").content.decode()
    client.force_login(user(username="manager"))
    team = client.get("/quality/team/")
    assert team.status_code == 200
    assert team.content.decode().count("<polyline") >= 4  # the clinic and each administrator


def test_running_it_again_adds_nothing(seeded):
    counts = _counts()
    call_command("seed_demo_quality", "--force")
    assert _counts() == counts


def test_it_steps_round_closed_days(db, monkeypatch, capsys):
    """A Monday morning right after the New Year holidays: every dialogue still falls in
    working hours (the Saturday-evening one aside) and every booking finds a free slot."""
    now = datetime(2027, 1, 11, 8, 0, tzinfo=MOSCOW)
    _seed(monkeypatch, capsys, now)
    cards = Scorecard.objects.filter(is_current=True)
    assert cards.count() == Scorecard.objects.count() >= 12
    assert all(card.window_end < now for card in cards)
    assert not cards.filter(window_start__date__range=("2027-01-01", "2027-01-08")).exists()
