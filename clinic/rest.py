"""What every API endpoint shares: one error body, the error responses in the schema, roles per
method, and the clinic token in the OpenAPI security schemes.

Every error answers `{"code": "...", "detail": "..."}`; a validation error adds `errors`
(field name -> messages, as DRF reports them) and a taken slot adds `next_slots`.
"""

from typing import Any

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import is_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import exception_handler

from clinic.models import Role


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Stable machine-readable code, e.g. not_found."))
    detail = serializers.CharField(help_text=_("A message for people."))


class ValidationErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(
        child=serializers.JSONField(), required=False,
        help_text=_("Messages per field; `non_field_errors` for the request as a whole."))


def error_body(code: str, detail: Any, **extra: Any) -> dict[str, Any]:
    return {"code": code, "detail": str(detail), **extra}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with every error in the one shape above."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body("invalid", _("Some values are not valid."), errors=errors)
    elif isinstance(exc.detail, dict | list):
        response.data = error_body(exc.default_code, exc.default_detail, errors=exc.detail)
    else:
        response.data = error_body(getattr(exc.detail, "code", exc.default_code), exc.detail)
    return response


class RolePerMethod:
    """Reading needs `read_role`; changing needs `write_role` (checked by HasClinicRole)."""

    read_role: str = Role.ADMINISTRATOR
    write_role: str = Role.MANAGER

    @property
    def required_role(self) -> str:
        return self.read_role if self.request.method in SAFE_METHODS else self.write_role


class ClinicAutoSchema(AutoSchema):
    """Documents the errors every operation can answer, with the one error body."""

    def _is_list_view(self, serializer: Any = None) -> bool:
        # A view whose `list` answers one object (e.g. {"results": [...]}, not paginated).
        if getattr(self.view, "list_answers_one_object", False):
            return False
        return super()._is_list_view(serializer)

    def _resolve_path_parameters(self, variables: list[str]) -> list[dict[str, Any]]:
        # An id restricted to digits by `lookup_value_regex` is an integer, not a string.
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["schema"] == {"type": "string", "pattern": r"^\d+$"}:
                parameter["schema"] = {"type": "integer", "minimum": 0}
        return parameters

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        codes = ["401", "403"]
        # A body, or query parameters validated by a serializer, can be refused.
        if self.method in ("POST", "PUT", "PATCH") or any(
                is_serializer(p) for p in self.get_override_parameters()):
            codes.append("400")
        if "{" in self.path or self._is_list_view():  # an unknown id, or a stale cursor
            codes.append("404")
        for code in codes:
            if code not in responses:
                serializer = ValidationErrorSerializer if code == "400" else ErrorSerializer
                responses[code] = self._get_response_for_code(serializer, code)
        return responses


class ClinicTokenScheme(OpenApiAuthenticationExtension):
    target_class = "clinic.access.ClinicTokenAuthentication"
    name = "clinicToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": str(_(
                "A clinic API token (cit_…), made by the clinic's owner under Settings → API. "
                "It acts in its clinic only, with a manager's rights.")),
        }
