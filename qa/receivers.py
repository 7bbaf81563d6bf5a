"""qa's answers to what the apps below it announce; connected in QaConfig.ready()."""

from typing import Any

from django.db import transaction

from clinic.models import Clinic
from inbox.models import DialogueWindow
from inbox.tasks import enqueue
from qa.models import Scorecard
from qa.services.revisions import checklist_revision_ensure_default
from qa.tasks import scorecard_build_task


def scorecard_build_queue(sender: Any, window_id: int, **kwargs: Any) -> None:
    """A dialogue was resolved (after commit): score it on the slow queue. A broker outage is
    covered by the backstop, scorecards_process_due."""
    enqueue(scorecard_build_task, window_id)


def checklist_for_new_clinic(sender: Any, clinic: Clinic, **kwargs: Any) -> None:
    """A clinic was created: its default checklist revision comes with it."""
    checklist_revision_ensure_default(clinic=clinic)


def scorecard_satisfaction_copy(sender: Any, window_id: int, **kwargs: Any) -> None:
    """A patient rated a dialogue (after commit): the rating goes onto its current scorecard.
    The window's lock waits for a scoring that is under way; a scorecard built later copies
    the rating itself (scorecard_build)."""
    with transaction.atomic():
        rating = (DialogueWindow.objects.select_for_update().filter(pk=window_id)
                  .values_list("satisfaction", flat=True).first())
        Scorecard.objects.filter(window_id=window_id, is_current=True).update(
            satisfaction=rating)
