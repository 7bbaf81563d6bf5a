"""The words of every conversation that had messages before 0010_conversation_words (Postgres).

Data only, in batches of conversations each committed on its own, and re-runnable: a
conversation that has its row (filled here before, or by a trigger since) is left alone.
"""

from django.db import migrations, transaction

BATCH = 1000


def conversation_words_fill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Conversation = apps.get_model("inbox", "Conversation")
    after = 0
    while True:
        ids = list(Conversation.objects.filter(pk__gt=after).order_by("pk")
                   .values_list("pk", flat=True)[:BATCH])
        if not ids:
            return
        with transaction.atomic(), schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO inbox_conversationwords (conversation_id, words) "
                "SELECT c.id, inbox_conversation_words(c.id) FROM inbox_conversation c "
                "WHERE c.id = ANY (%s) AND NOT EXISTS (SELECT 1 FROM inbox_conversationwords w "
                "WHERE w.conversation_id = c.id) "
                "ON CONFLICT (conversation_id) DO NOTHING", [ids])
        after = ids[-1]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inbox", "0010_conversation_words"),
    ]

    operations = [
        migrations.RunPython(conversation_words_fill, migrations.RunPython.noop, elidable=True),
    ]
