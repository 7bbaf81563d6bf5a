from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QaConfig(AppConfig):
    name = "qa"
    verbose_name = _("Quality")

    def ready(self) -> None:
        # The apps below announce what quality needs without importing it.
        from clinic.signals import clinic_created
        from inbox.signals import dialogue_resolved, satisfaction_recorded
        from qa.receivers import (
            checklist_for_new_clinic,
            scorecard_build_queue,
            scorecard_satisfaction_copy,
        )

        clinic_created.connect(checklist_for_new_clinic, dispatch_uid="qa.checklist_for_new_clinic")
        dialogue_resolved.connect(scorecard_build_queue, dispatch_uid="qa.scorecard_build_queue")
        satisfaction_recorded.connect(scorecard_satisfaction_copy,
                                      dispatch_uid="qa.scorecard_satisfaction_copy")
