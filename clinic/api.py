"""REST API for the core domain. Every queryset is scoped to the caller's clinic."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import serializers, viewsets
from rest_framework.pagination import CursorPagination

from clinic import services
from clinic.models import Patient
from clinic.phones import phone_normalize
from clinic.selectors import patient_list


class PatientSerializer(serializers.ModelSerializer):
    preferred_days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), max_length=7, required=False,
        help_text="Weekdays the patient prefers, 0 = Monday.")

    class Meta:
        model = Patient
        fields = ["id", "last_name", "first_name", "patronymic", "phone", "email", "birthday",
                  "preferred_channel", "preferred_time_of_day", "preferred_days",
                  "opted_out_all", "open_complaint", "left_unhappy", "notes", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_phone(self, value: str) -> str:
        try:
            return phone_normalize(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")


class PatientViewSet(viewsets.ModelViewSet):
    """Patients of the caller's clinic. `?search=` matches names and phone digits."""

    queryset = Patient.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = PatientSerializer
    pagination_class = NewestFirst
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Patient]:
        # A NUL cannot be in a database string (Postgres refuses it): it matches nothing anyway.
        search = self.request.query_params.get("search", "").replace("\x00", "")
        return patient_list(clinic=self.request.membership.clinic, search=search)

    def perform_create(self, serializer: PatientSerializer) -> None:
        serializer.instance = services.patient_create(
            clinic=self.request.membership.clinic, **serializer.validated_data)

    def perform_update(self, serializer: PatientSerializer) -> None:
        serializer.instance = services.patient_update(patient=serializer.instance,
                                                      **serializer.validated_data)
