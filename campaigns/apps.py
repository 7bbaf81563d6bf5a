from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        # The apps below announce what campaigns need without importing them.
        from campaigns.receivers import (
            appointment_plan_queue,
            reminder_answer,
            rules_for_new_clinic,
        )
        from clinic.signals import clinic_created
        from inbox.signals import patient_message_stored
        from scheduling.signals import appointment_changed

        clinic_created.connect(rules_for_new_clinic, dispatch_uid="campaigns.rules_for_new_clinic")
        appointment_changed.connect(appointment_plan_queue,
                                    dispatch_uid="campaigns.appointment_plan_queue")
        patient_message_stored.connect(reminder_answer, dispatch_uid="campaigns.reminder_answer")
