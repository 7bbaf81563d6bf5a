"""The default checklist, revision 1.2 of the clinic's standard (PRODUCT.md)."""

from qa.checklist.items import gettext_noop

DEFAULT_NUMBER = "1.2"

# code, title, description; every item weighs 1 and none is critical by default.
DEFAULT_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("first_reply_time", gettext_noop("First reply in time"),
     gettext_noop("The first reply to the patient's first waiting message comes within 5 "
                  "working minutes.")),
    ("reply_time", gettext_noop("Later replies in time"),
     gettext_noop("Every later waiting patient message is answered within 5 working minutes.")),
    ("promise_kept", gettext_noop("Promise kept"),
     gettext_noop("Every “I'll check and come back” is followed by a reply within 15 minutes.")),
    ("greeting", gettext_noop("Greeting and introduction"),
     gettext_noop("The first message greets the patient and the administrator introduces "
                  "themselves.")),
    ("name_used", gettext_noop("Patient's name"),
     gettext_noop("The patient is addressed by name, or asked how to address them.")),
    ("ends_with_question", gettext_noop("Ends with a question"),
     gettext_noop("Every reply ends with a question (the farewell after the result excepted).")),
    ("no_bare_price", gettext_noop("No bare price"),
     gettext_noop("No reply is only a price without a continuation.")),
    ("price_given", gettext_noop("Price given"),
     gettext_noop("Asked about cost, the administrator gives a price or a range.")),
    ("structure", gettext_noop("Reply structure"),
     gettext_noop("The first answer has a greeting by name, an answer, an offer and a question.")),
    ("emoji", gettext_noop("Emoji in moderation"),
     gettext_noop("At most 2 emoji per message and none in replies to a complaint.")),
    ("stop_words", gettext_noop("No stop-words"),
     gettext_noop("No stop-word from the clinic's list and no one-word replies.")),
    ("literacy", gettext_noop("Literacy"),
     gettext_noop("No spelling mistakes (the clinic's dictionary allowed).")),
    ("need_discovery", gettext_noop("Need discovered"),
     gettext_noop("At least one clarifying question about the patient's need.")),
    ("negativity_handled", gettext_noop("Negativity handled"),
     gettext_noop("Dissatisfaction is met with empathy, never with arguing.")),
    ("result", gettext_noop("Result"),
     gettext_noop("A booking linked to the dialogue or an agreed next step.")),
)

CODES: tuple[str, ...] = tuple(code for code, _, _ in DEFAULT_ITEMS)
