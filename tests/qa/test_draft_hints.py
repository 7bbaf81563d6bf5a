"""Hints on the administrator's draft: the checklist's rules before sending."""

import pytest
from django.urls import reverse

from qa.checklist.hints import DraftContext, draft_hints
from qa.checklist.json_io import rules_from_json
from tests.inbox.factories import conversation_for

pytestmark = pytest.mark.django_db

RULES = rules_from_json({"dictionary": ["Гвоздецкий"]})


def codes(text: str, **context) -> list[str]:
    return [h.code for h in draft_hints(text, DraftContext(rules=RULES, **context))]


def test_a_good_first_reply_gets_no_hint():
    text = ("Анна, здравствуйте! Меня зовут Ольга. Чистка стоит 5 500 ₽, в неё входит Air Flow. "
            "Записать вас к доктору Гвоздецкому на вторник?")
    assert codes(text, first_reply=True, patient_first_name="Анна", admin_name="Ольга") == []


def test_each_rule_hints_on_its_own_mistake():
    assert codes("5000 руб.") == ["ends_with_question", "no_bare_price"]
    assert "stop_words" in codes("Ждите, уточню?")
    assert "stop_words" in codes("Да")
    assert "emoji" in codes("Записать вас? 😊😊😊")
    assert "emoji" in codes("Понимаю вас 🙏 Записать?", after_complaint=True)
    assert codes("Записать вас на вторник?", first_reply=True, patient_first_name="Анна",
                 admin_name="Ольга") == ["greeting", "greeting", "name_used"]


def test_a_misspelled_word_is_marked_with_suggestions():
    (hint,) = draft_hints("Извените, записать вас?", DraftContext(rules=RULES))
    assert (hint.code, hint.start, hint.end) == ("literacy", 0, 8)
    assert hint.suggestions[0] == "Извините"


def test_the_composer_endpoint_renders_hints_and_escapes_the_draft(client, clinic,
                                                                   administrator):
    conversation = conversation_for(clinic)
    client.force_login(administrator)
    response = client.post(reverse("qa:draft-hints", args=[conversation.pk]),
                           {"text": "Извените, <b>это</b> 5000 руб."}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="misspelled">Извените</span>' in body
    assert "&lt;b&gt;" in body and "<b>" not in body
    assert 'data-replace-with="Извините"' in body


def test_another_clinics_conversation_is_not_found(client, administrator, other_clinic):
    conversation = conversation_for(other_clinic)
    client.force_login(administrator)
    response = client.post(reverse("qa:draft-hints", args=[conversation.pk]), {"text": "Да"})
    assert response.status_code == 404
