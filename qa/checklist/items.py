"""The fifteen items of the clinic's checklist: one function each, from a Reading to a Verdict.

Reasons are English templates marked for translation (the product shows them in Russian); the
values they name travel beside them in `params`.
"""

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache

from clinic.hours import working_minutes_between
from qa.checklist.dialogue import Verdict
from qa.checklist.lexicon import lexicon, text_has
from qa.checklist.names import diminutives, forms, is_name, mentions, mentions_pair
from qa.checklist.reading import Reading, Reply, is_acknowledgement
from qa.checklist.spelling import mistakes
from qa.checklist.text import (
    Word,
    emoji_count,
    ends_with_question,
    fold,
    has_price,
    lemmas,
    sentences,
    words,
)


def gettext_noop(text: str) -> str:
    """Marks a reason for translation without importing Django (xgettext knows the name)."""
    return text


def verdict(result: str, evidence: list[int] | tuple[int, ...], why: str, **params) -> Verdict:
    return Verdict(result, tuple(sorted(set(evidence))), why, params)


def _minutes(value: float) -> str:
    """5 -> "5", 4.5 -> "4:30", 15.02 -> "15:01": minutes, with seconds when there are any."""
    seconds = round(value * 60)
    whole, rest = divmod(seconds, 60)
    return f"{whole}:{rest:02d}" if rest else str(whole)


# 1–3: timing -----------------------------------------------------------------------------------

def _working_minutes(r: Reading, start: datetime, end: datetime) -> str:
    return _minutes(working_minutes_between(r.rules.hours, start, end))


def first_reply_time(r: Reading) -> Verdict:
    wait = next((w for w in r.waits if w.first), None)
    limit = _minutes(r.rules.first_reply_minutes)
    if wait is None:
        return verdict("na", [], gettext_noop("No patient message needed a reply."))
    if wait.answer is None:
        return verdict("fail", [wait.start],
                       gettext_noop("The patient's first message was never answered."))
    taken = _working_minutes(r, r.messages[wait.start].at, wait.answered_at)
    if wait.in_time:
        return verdict("pass", [wait.start, wait.answer],
                       gettext_noop("First reply in {minutes} working min (limit {limit})."),
                       minutes=taken, limit=limit)
    return verdict("fail", [wait.start, wait.answer],
                   gettext_noop("First reply after {minutes} working min (limit {limit})."),
                   minutes=taken, limit=limit)


def reply_time(r: Reading) -> Verdict:
    later = [w for w in r.waits if not w.first]
    limit = _minutes(r.rules.reply_minutes)
    if not later:
        return verdict("na", [], gettext_noop("No later patient message waited for a reply."))
    late = [w for w in later if not w.in_time]
    if not late:
        return verdict("pass", [i for w in later for i in (w.start, w.answer)],
                       gettext_noop("All {count} later messages answered within {limit} "
                                    "working min."), count=len(later), limit=limit)
    worst = late[0]
    if worst.answer is None:
        return verdict("fail", [worst.start], gettext_noop("A patient message was never answered."))
    return verdict("fail", [i for w in late for i in (w.start, w.answer) if i is not None],
                   gettext_noop("A reply took {minutes} working min (limit {limit})."),
                   minutes=_working_minutes(r, r.messages[worst.start].at, worst.answered_at),
                   limit=limit)


def promise_kept(r: Reading) -> Verdict:
    if not r.promises:
        return verdict("na", [], gettext_noop("No promise to check and come back was made."))
    limit = _minutes(r.rules.promise_minutes)
    broken = [p for p in r.promises if not p.kept]
    if not broken:
        return verdict("pass", [i for p in r.promises for i in (p.index, p.answer)],
                       gettext_noop("Came back within {limit} min as promised."), limit=limit)
    p = broken[0]
    if p.answer is None:
        return verdict("fail", [p.index], gettext_noop("The promise to come back was not kept."))
    taken = (p.answered_at - r.messages[p.index].at).total_seconds() / 60
    return verdict("fail", [p.index, p.answer],
                   gettext_noop("Came back after {minutes} min, {limit} were promised."),
                   minutes=_minutes(taken), limit=limit)


# 4–5: greeting and name ------------------------------------------------------------------------

def greets(ws: tuple[Word, ...]) -> bool:
    """A greeting, misspelled or not ("Здраствуйте" still greets)."""
    return ws in lexicon("greetings") or any(w.low.startswith("здр") and "ств" in w.low
                                              for w in ws[:3])


def introduces(ws: tuple[Word, ...], admin_name: str | None) -> bool:
    """"Меня зовут …", "на связи …", or the administrator's own name."""
    if ws in lexicon("introductions"):
        return True
    return bool(admin_name) and any(mentions(ws, forms(part)) for part in admin_name.split())


def greeting(r: Reading) -> Verdict:
    if not r.replies:
        return verdict("fail", [], gettext_noop("The administrator never wrote."))
    first = r.replies[0]
    ws = first.words
    hello, intro = greets(ws), introduces(ws, r.dialogue.admin_name)
    if hello and intro:
        return verdict("pass", first.indexes,
                       gettext_noop("The first reply greets and the administrator introduces "
                                    "themselves."))
    if hello:
        return verdict("fail", first.indexes,
                       gettext_noop("The first reply greets, but the administrator does not "
                                    "introduce themselves."))
    if intro:
        return verdict("fail", first.indexes, gettext_noop("The first reply has no greeting."))
    return verdict("fail", first.indexes,
                   gettext_noop("The first reply neither greets nor introduces the administrator."))


class Names:
    """The forms by which the patient may be addressed."""

    def __init__(self, r: Reading):
        d = r.dialogue
        self.first = forms(d.patient_first_name) if d.patient_first_name else frozenset()
        self.patronymic = (forms(d.patient_patronymic, "Patr") if d.patient_patronymic
                           else frozenset())
        patient_words = [w for i in range(len(r.messages)) if r.patient(i)
                         for w in words(r.messages[i].text)]
        used = {w.low for w in patient_words}
        if d.patient_first_name:
            for short in diminutives(d.patient_first_name):
                if forms(short) & used:
                    self.first |= forms(short)
        self.given = frozenset()  # names the patient gave in the chat
        for w in patient_words:
            for name in is_name(w):
                self.given |= forms(name)

    def addressed(self, ws: tuple[Word, ...], style: str) -> bool:
        if self.first and self.patronymic and style == "name_patronymic":
            return mentions_pair(ws, self.first, self.patronymic)
        return mentions(ws, self.first or self.given)


def _names(r: Reading) -> "Names":
    if "names" not in r.memo:
        r.memo["names"] = Names(r)
    return r.memo["names"]


def name_used(r: Reading) -> Verdict:
    names = _names(r)
    style = r.rules.name_style
    for reply in r.replies:
        for i, text in zip(reply.indexes, reply.texts, strict=True):
            if names.addressed(words(text), style):
                return verdict("pass", [i], gettext_noop("The patient is addressed by name."))
    if not names.first:
        for reply in r.replies:
            for i, text in zip(reply.indexes, reply.texts, strict=True):
                if words(text) in lexicon("address_questions"):
                    return verdict("pass", [i], gettext_noop(
                        "The name was unknown and the administrator asked how to address the "
                        "patient."))
        return verdict("fail", [], gettext_noop(
            "The name was unknown and the administrator did not ask how to address the patient."))
    if style == "name_patronymic" and names.patronymic:
        return verdict("fail", [], gettext_noop(
            "The patient is never addressed by first name and patronymic."))
    return verdict("fail", [], gettext_noop("The patient is never addressed by name."))


# 6: questions ----------------------------------------------------------------------------------

def positive_outcome(r: Reading) -> bool:
    outcome = r.dialogue.outcome
    return outcome.booked or bool(outcome.next_step and outcome.next_step.strip())


def farewells(r: Reading) -> set[int]:
    """Indexes (into replies) of the farewell after the result: exempt from ending in "?"."""
    if not positive_outcome(r) or not r.replies:
        return set()
    for k, reply in enumerate(r.replies):
        if reply.words in lexicon("booking_confirmed"):
            return set(range(k, len(r.replies)))
    return {len(r.replies) - 1}


def ends_with_question_item(r: Reading) -> Verdict:
    if not r.replies:
        return verdict("fail", [], gettext_noop("The administrator never wrote."))
    exempt = farewells(r)
    judged = [reply for k, reply in enumerate(r.replies) if k not in exempt]
    failed = [reply for reply in judged if not ends_with_question(reply.text)]
    if failed:
        return verdict("fail", [reply.indexes[-1] for reply in failed],
                       gettext_noop("{count} of {total} replies do not end with a question."),
                       count=len(failed), total=len(judged))
    return verdict("pass", [reply.indexes[-1] for reply in judged],
                   gettext_noop("Every reply ends with a question."))


# 7–8: prices -----------------------------------------------------------------------------------

@lru_cache(maxsize=8192)
def is_bare_price(texts: tuple[str, ...]) -> bool:
    """Only a price: every sentence of the reply's bubbles names a price or only greets, no
    question, and nothing that continues it ("5000 руб.", "Кабинетное отбеливание — 18 500 ₽.",
    "Здравствуйте! От 7000 ₽."); "…в зависимости от системы" or an offer continues it."""
    priced = False
    for text, ws in (s for t in texts for s in sentences(t)):
        if "?" in text or ws in lexicon("price_continuations"):
            return False
        if has_price(text):
            priced = True
        elif ws and not _ceremonial(text):
            return False
    return priced


def no_bare_price(r: Reading) -> Verdict:
    priced = [reply for reply in r.replies if has_price(reply.text)]
    if not priced:
        return verdict("na", [], gettext_noop("No prices were sent."))
    bare = [reply for reply in priced if is_bare_price(reply.texts)]
    if bare:
        return verdict("fail", [i for reply in bare for i in reply.indexes],
                       gettext_noop("A reply is only a price, with nothing after it."))
    return verdict("pass", [reply.indexes[0] for reply in priced],
                   gettext_noop("Every price comes with a continuation."))


def _asks_cost(text: str) -> bool:
    """About cost: "сколько стоит", "какой ценник", a discount; a price with a question mark
    ("это 7600 получается?"). Thanks for a discount is not a question."""
    if is_acknowledgement(text):
        return False
    return text_has("price_questions", text) or ("?" in text and has_price(text))


def _cost_questions(r: Reading) -> list[int]:
    return [i for i in range(len(r.messages)) if r.patient(i) and _asks_cost(r.messages[i].text)]


def price_given(r: Reading) -> Verdict:
    asked = _cost_questions(r)
    if not asked:
        return verdict("na", [], gettext_noop("The patient did not ask about cost."))
    discount = any(fold(r.messages[i].text).find("скидк") >= 0 for i in asked)
    for i in range(asked[0] + 1, len(r.messages)):
        if not r.admin(i):
            continue
        text = r.messages[i].text
        if has_price(text) or "бесплатн" in fold(text) or (discount and "%" in text):
            return verdict("pass", [asked[0], i], gettext_noop("A price or a range was given."))
    return verdict("fail", asked[:1],
                   gettext_noop("The patient asked about cost and got no price or range."))


# 9: structure ----------------------------------------------------------------------------------

@lru_cache(maxsize=16384)
def _ceremonial(sentence: str) -> bool:
    """A sentence that only greets, introduces, thanks for writing or asks for the name."""
    ws = words(sentence)
    if not ws or ws in lexicon("address_questions"):
        return True
    matched = set()
    for name in ("greetings", "introductions", "courtesies"):
        for m in lexicon(name).find(ws):
            matched.update(range(m.start, m.end))
    # What is left is names and linking words: "Анна, здравствуйте! Меня зовут Ольга".
    return bool(matched) and len(ws) - len(matched) <= 3


def _informs(sentence: tuple[str, tuple[Word, ...]]) -> bool:
    """A sentence that tells something: not a question, not ceremony."""
    text, _ = sentence
    return not ends_with_question(text) and not _ceremonial(text)


def _answers(reply: Reply) -> bool:
    """Whether a reply tells the patient something; in a promise bubble the sentence that
    promises to check and come back does not ("…уточню у доктора и отвечу в течение 15 минут")."""
    for text, kind in zip(reply.texts, reply.kinds, strict=True):
        for sentence in sentences(text):
            if kind == "promise" and sentence[1] in lexicon("promise_phrases"):
                continue
            if _informs(sentence):
                return True
    return False


def substantive(r: Reading) -> Reply | None:
    """The first reply that answers the request; in a dialogue the clinic starts, its first."""
    if not r.replies:
        return None
    first = r.replies[0]
    if not any(r.patient(i) for i in range(first.indexes[0])):
        return first
    for reply in r.replies:  # a promise with content counts; "уточню и вернусь" alone does not
        if _answers(reply):
            return reply
    return None


def structure(r: Reading) -> Verdict:
    reply = substantive(r)
    if reply is None:
        return verdict("fail", [], gettext_noop("No reply answered the request."))
    names = _names(r)
    start = reply.indexes[0]
    known = bool(names.first) or any(
        is_name(w) for i in range(start) if r.patient(i) for w in words(r.messages[i].text))
    hello = greets(reply.words) and (not known or names.addressed(reply.words, "first_name"))
    answer = _answers(reply)
    if answer and any(i < start for i in _cost_questions(r)) and not has_price(reply.text):
        answer = False  # "the doctor will tell you the price" does not answer a cost question
    offer = reply.words in lexicon("offers")
    question = ends_with_question(reply.text)
    missing = [label for ok, label in ((hello, gettext_noop("greeting by name")),
                                       (answer, gettext_noop("answer")),
                                       (offer, gettext_noop("offer")),
                                       (question, gettext_noop("question"))) if not ok]
    if not missing:
        return verdict("pass", reply.indexes, gettext_noop(
            "The first answer has a greeting by name, an answer, an offer and a question."))
    return verdict("fail", reply.indexes, gettext_noop("The first answer lacks: {missing}."),
                   missing=missing)


# 10–12: form -----------------------------------------------------------------------------------

def complains(text: str) -> bool:
    """Dissatisfaction with this clinic: a sentence about another clinic does not count."""
    return text_has("dissatisfaction", text) and any(
        ws in lexicon("dissatisfaction") and ws not in lexicon("other_clinic")
        for _, ws in sentences(text))


def complaints(r: Reading) -> list[int]:
    return [i for i in range(len(r.messages)) if r.patient(i) and complains(r.messages[i].text)]


def emoji_item(r: Reading) -> Verdict:
    limit = r.rules.emoji_limit
    over = [i for i in range(len(r.messages))
            if r.admin(i) and emoji_count(r.messages[i].text) > limit]
    if over:
        return verdict("fail", over, gettext_noop("More than {limit} emoji in a message."),
                       limit=limit)
    upset = set(complaints(r))
    for reply in r.replies:
        if upset & set(r.patient_before(reply)) and emoji_count(reply.text):
            return verdict("fail", reply.indexes,
                           gettext_noop("An emoji in the reply to a complaint."))
    return verdict("pass", [], gettext_noop("Emoji in moderation."))


@lru_cache(maxsize=8192)
def _spaced(text: str) -> str:
    return f" {' '.join(w.low for w in words(text))} "


@lru_cache(maxsize=256)
def _stop_phrases(phrases: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((p, f" {' '.join(w.low for w in words(p))} ") for p in phrases if words(p))


def stop_word(text: str, phrases: tuple[str, ...]) -> str | None:
    """The first stop-word or phrase the text holds as whole words ("около" is not "ок")."""
    low = _spaced(text)
    return next((phrase for phrase, key in _stop_phrases(phrases) if key in low), None)


def stop_words(r: Reading) -> Verdict:
    for i in range(len(r.messages)):
        if r.admin(i):
            found = stop_word(r.messages[i].text, r.rules.stop_words)
            if found:
                return verdict("fail", [i], gettext_noop("Stop-word “{word}”."), word=found)
    for reply in r.replies:
        if len(reply.words) == 1 and not has_price(reply.text):
            return verdict("fail", reply.indexes, gettext_noop("A one-word reply: “{text}”."),
                           text=reply.text.strip())
    return verdict("pass", [], gettext_noop("No stop-words and no one-word replies."))


@lru_cache(maxsize=256)
def _dictionary_words(dictionary: tuple[str, ...]) -> frozenset[str]:
    # A word's forms are known by their normal forms: "Гвоздецкому" is "Гвоздецкий".
    return frozenset(form for entry in dictionary for part in entry.replace("-", " ").split()
                     for form in lemmas(fold(part.strip("«»\"'.,()"))))


def clinic_words(dictionary: tuple[str, ...], names: tuple[str | None, ...] = (),
                 patronymic: str | None = None) -> frozenset[str]:
    """The clinic's words and the people's names, folded, for the spelling check."""
    out = set(_dictionary_words(dictionary))
    for name in names:
        for part in (name or "").split():
            out |= forms(part, "Surn")
    if patronymic:
        out |= forms(patronymic, "Patr")
    return frozenset(out)


def literacy(r: Reading) -> Verdict:
    d = r.dialogue
    extra = clinic_words(r.rules.dictionary,
                         (d.patient_first_name, d.patient_last_name, d.admin_name),
                         d.patient_patronymic)
    wrong: list[tuple[int, str]] = []
    for i in range(len(r.messages)):
        if r.admin(i):
            wrong.extend((i, w.text) for w in mistakes(r.messages[i].text, extra))
    if wrong:
        return verdict("fail", [i for i, _ in wrong], gettext_noop("Misspelled: {words}."),
                       words=", ".join(dict.fromkeys(w for _, w in wrong)))
    return verdict("pass", [], gettext_noop("No spelling mistakes."))


# 13–15: the need, the mood, the result ---------------------------------------------------------

def request_messages(r: Reading) -> list[int]:
    """The patient's request: their messages before the clinic's first reply, or, when the
    clinic wrote first, their answer to it."""
    if not r.replies:
        return [i for i in range(len(r.messages)) if r.patient(i)]
    first = r.replies[0].indexes[0]
    before = [i for i in range(first) if r.patient(i)]
    if before:
        return before
    nxt = r.replies[1].indexes[0] if len(r.replies) > 1 else len(r.messages)
    return [i for i in range(first, nxt) if r.patient(i)]


def is_need_question(sentence: tuple[str, tuple[Word, ...]]) -> bool:
    """A question about the patient's need, not about dates, times, contacts or closing. Beside
    one of those ("как к вам обращаться и что вас беспокоит?") a strong need word still counts."""
    text, ws = sentence
    if not ends_with_question(text):
        return False
    other = set()
    for name in ("closing_questions", "address_questions", "time_questions"):
        for m in lexicon(name).find(ws):
            other.update(range(m.start, m.end))
    if not other:
        return ws in lexicon("need_questions")
    return any(m.start not in other for m in lexicon("need_questions_strong").find(ws))


def specific_request(r: Reading, request: list[int]) -> bool:
    """Fully specific: a referral, a plan or an appointment defines it, it names its object
    exactly (a certificate for a purpose, a thing left behind), or the patient says both what
    they want and why ("Откололся кусочек зуба, хочу восстановить"). A complaint without a
    request is not; neither is "на чистку" alone, nor a patient who asks where to start."""
    texts = [r.messages[i].text for i in request]
    if not texts or all(is_acknowledgement(t) for t in texts):
        return True  # nothing was asked (the clinic wrote first and the patient agreed)
    ws = tuple(w for t in texts for w in words(t))
    if ws in lexicon("unsure_requests"):
        return False
    if ws in lexicon("specific_requests"):
        return True
    return ws in lexicon("requests") and ws in lexicon("reasons")


def need_discovery(r: Reading) -> Verdict:
    request = request_messages(r)
    if specific_request(r, request):
        return verdict("na", request,
                       gettext_noop("The request was fully specific: no question was needed."))
    for reply in r.replies:
        for i, text in zip(reply.indexes, reply.texts, strict=True):
            if any(is_need_question(s) for s in sentences(text)):
                return verdict("pass", [i],
                               gettext_noop("The administrator asked about the patient's need."))
    return verdict("fail", request,
                   gettext_noop("No clarifying question about the patient's need."))


def negativity_handled(r: Reading) -> Verdict:
    upset = complaints(r)
    if not upset:
        return verdict("na", [], gettext_noop("The patient expressed no dissatisfaction."))
    after = [reply for reply in r.replies if reply.indexes[0] > upset[0]]
    arguing = [i for reply in after for i in reply.indexes
               if text_has("arguing", r.messages[i].text)]
    if arguing:
        return verdict("fail", [upset[0], *arguing],
                       gettext_noop("The administrator argued with the patient."))
    answer = next((reply for reply in after if not reply.only_promise), None)
    if answer is None:
        return verdict("fail", upset[:1], gettext_noop("The dissatisfaction was not answered."))
    if answer.words in lexicon("empathy"):
        return verdict("pass", [upset[0], *answer.indexes],
                       gettext_noop("The dissatisfaction was met with empathy."))
    return verdict("fail", [upset[0], *answer.indexes],
                   gettext_noop("The reply to the dissatisfaction shows no empathy."))


def about_visit(r: Reading) -> bool:
    if r.dialogue.outcome.about_visit is not None:
        return r.dialogue.outcome.about_visit
    ws = tuple(w for i in request_messages(r) for w in words(r.messages[i].text))
    return ws not in lexicon("non_visit")


def result(r: Reading) -> Verdict:
    outcome = r.dialogue.outcome
    confirm = [i for reply in r.replies for i in reply.indexes
               if text_has("booking_confirmed", r.messages[i].text)]
    if outcome.booked:
        return verdict("pass", confirm[-1:], gettext_noop("The dialogue ended with a booking."))
    if not about_visit(r):
        return verdict("na", [], gettext_noop("The request was not about a visit."))
    if outcome.next_step and outcome.next_step.strip():
        return verdict("pass", confirm[-1:], gettext_noop("Next step agreed: {step}."),
                       step=outcome.next_step.strip())
    return verdict("fail", [], gettext_noop("No booking and no agreed next step."))


ITEMS: dict[str, Callable[[Reading], Verdict]] = {
    "first_reply_time": first_reply_time,
    "reply_time": reply_time,
    "promise_kept": promise_kept,
    "greeting": greeting,
    "name_used": name_used,
    "ends_with_question": ends_with_question_item,
    "no_bare_price": no_bare_price,
    "price_given": price_given,
    "structure": structure,
    "emoji": emoji_item,
    "stop_words": stop_words,
    "literacy": literacy,
    "need_discovery": need_discovery,
    "negativity_handled": negativity_handled,
    "result": result,
}
