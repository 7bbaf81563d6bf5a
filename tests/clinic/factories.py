import factory
from django.contrib.auth import get_user_model

from clinic.models import Clinic, Membership, Patient
from clinic.services import clinic_create


class ClinicFactory(factory.django.DjangoModelFactory):
    """Created through the service, as the product creates clinics (each app sets up its part,
    e.g. the default checklist revision)."""

    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Клиника {n}")
    address = "Москва, ул. Тверская, 1"
    timezone = "Europe/Moscow"

    @classmethod
    def _create(cls, model_class: type[Clinic], *args: object, **kwargs: object) -> Clinic:
        return clinic_create(**kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Анна"
    last_name = "Белова"
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)
    role = "administrator"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    last_name = "Иванова"
    first_name = "Мария"
    patronymic = "Петровна"
    phone = factory.Sequence(lambda n: f"+7916{n:07d}")
