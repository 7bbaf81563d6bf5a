"""qa's answers to what the apps below it announce; connected in QaConfig.ready()."""

from typing import Any

from clinic.models import Clinic
from inbox.tasks import enqueue
from qa.services.revisions import checklist_revision_ensure_default
from qa.tasks import scorecard_build_task


def scorecard_build_queue(sender: Any, window_id: int, **kwargs: Any) -> None:
    """A dialogue was resolved (after commit): score it on the slow queue. A broker outage is
    covered by the backstop, scorecards_process_due."""
    enqueue(scorecard_build_task, window_id)


def checklist_for_new_clinic(sender: Any, clinic: Clinic, **kwargs: Any) -> None:
    """A clinic was created: its default checklist revision comes with it."""
    checklist_revision_ensure_default(clinic=clinic)
