"""Every clinic gets the default checklist, revision 1.2 of the clinic's standard.

Data only, in batches, and re-runnable: a clinic that has any revision is left alone. The items
are frozen here as qa.checklist.revision.DEFAULT_ITEMS had them for "1.2" (English msgids,
shown through gettext); clinics made later get them from
qa.services.revisions.checklist_revision_ensure_default.
"""

from django.db import migrations, transaction
from django.db.models import Exists, OuterRef

NUMBER = "1.2"
BATCH = 500
ITEMS = (
    ('first_reply_time',
     'First reply in time',
     "The first reply to the patient's first waiting message comes within 5 working minutes."),
    ('reply_time',
     'Later replies in time',
     'Every later waiting patient message is answered within 5 working minutes.'),
    ('promise_kept',
     'Promise kept',
     "Every “I'll check and come back” is followed by a reply within 15 minutes."),
    ('greeting',
     'Greeting and introduction',
     'The first message greets the patient and the administrator introduces themselves.'),
    ('name_used',
     "Patient's name",
     'The patient is addressed by name, or asked how to address them.'),
    ('ends_with_question',
     'Ends with a question',
     'Every reply ends with a question (the farewell after the result excepted).'),
    ('no_bare_price',
     'No bare price',
     'No reply is only a price without a continuation.'),
    ('price_given',
     'Price given',
     'Asked about cost, the administrator gives a price or a range.'),
    ('structure',
     'Reply structure',
     'The first answer has a greeting by name, an answer, an offer and a question.'),
    ('emoji',
     'Emoji in moderation',
     'At most 2 emoji per message and none in replies to a complaint.'),
    ('stop_words',
     'No stop-words',
     "No stop-word from the clinic's list and no one-word replies."),
    ('literacy',
     'Literacy',
     "No spelling mistakes (the clinic's dictionary allowed)."),
    ('need_discovery',
     'Need discovered',
     "At least one clarifying question about the patient's need."),
    ('negativity_handled',
     'Negativity handled',
     'Dissatisfaction is met with empathy, never with arguing.'),
    ('result',
     'Result',
     'A booking linked to the dialogue or an agreed next step.'),
)


def create_default_revisions(apps, schema_editor):
    Clinic = apps.get_model("clinic", "Clinic")
    Revision = apps.get_model("qa", "ChecklistRevision")
    Item = apps.get_model("qa", "ChecklistItem")
    has_one = Revision.objects.filter(clinic=OuterRef("pk"))
    while True:
        batch = list(Clinic.objects.filter(~Exists(has_one)).order_by("pk")
                     .values_list("pk", "created_at")[:BATCH])
        if not batch:
            return
        with transaction.atomic():
            for clinic_id, created_at in batch:
                revision = Revision.objects.create(clinic_id=clinic_id, number=NUMBER,
                                                   created_at=created_at, is_current=True)
                Item.objects.bulk_create([
                    Item(revision=revision, position=position, code=code, title=title,
                         description=description, weight=1, enabled=True, critical=False,
                         parameters={})
                    for position, (code, title, description) in enumerate(ITEMS, start=1)])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("clinic", "0005_api_token"),
        ("qa", "0001_checklist_and_scorecards"),
    ]

    operations = [
        migrations.RunPython(create_default_revisions, migrations.RunPython.noop, elidable=True),
    ]
