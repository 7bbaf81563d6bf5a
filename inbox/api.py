"""REST API for conversations and messages: what the browser inbox and outside systems use."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from clinic import clock
from clinic.access import staff_user
from clinic.rest import ErrorSerializer, error_body
from inbox.models import Conversation, ConversationStatus, Message
from inbox.selectors import conversation_list, message_list
from inbox.services.outbound import SendRefused, message_send


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.get_full_name", default="", read_only=True)

    class Meta:
        model = Message
        fields = ["id", "direction", "kind", "body", "attachments", "status", "error_code",
                  "error_text", "author", "provider_timestamp", "created_at", "sent_at",
                  "edited_at"]
        read_only_fields = fields


class ConversationSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.kind", read_only=True)
    contact_name = serializers.CharField(source="contact.display_name", read_only=True)
    contact_phone = serializers.CharField(source="contact.phone", read_only=True)
    assignee = serializers.CharField(source="assignee.username", default=None, read_only=True)

    class Meta:
        model = Conversation
        fields = ["id", "channel", "contact_name", "contact_phone", "patient", "status",
                  "assignee", "last_message_at", "last_patient_message_at", "created_at"]
        read_only_fields = fields


class SendSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="",
                                 max_length=4096, trim_whitespace=True)
    template = serializers.CharField(required=False, allow_blank=True, default="")
    template_params = serializers.ListField(child=serializers.CharField(max_length=1024),
                                            required=False, default=list, max_length=10)
    file = serializers.FileField(required=False, default=None)


class NewestFirst(CursorPagination):
    ordering = ("-last_message_at", "-id")


class OldestFirst(CursorPagination):
    ordering = ("created_at", "id")
    page_size = 100


class ConversationViewSet(viewsets.ReadOnlyModelViewSet):
    """Conversations of the caller's clinic, most recent first; `?status=open|pending|resolved`."""

    queryset = Conversation.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = ConversationSerializer
    lookup_value_regex = r"\d+"
    pagination_class = NewestFirst

    def get_queryset(self) -> QuerySet[Conversation]:
        wanted = self.request.query_params.get("status", "")
        return conversation_list(clinic=self.request.membership.clinic,
                                 status=wanted if wanted in ConversationStatus.values else "")

    @extend_schema(methods=["GET"], responses=MessageSerializer(many=True))
    @extend_schema(methods=["POST"], request=SendSerializer, responses={
        201: MessageSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["get", "post"])
    def messages(self, request: Request, pk: str | None = None) -> Response:
        """GET: the thread, oldest first. POST: send a reply (queued, then delivered); only a
        person may write to a patient, not a clinic API token."""
        conversation = get_object_or_404(self.get_queryset(), pk=pk)
        if request.method == "GET":
            paginator = OldestFirst()
            page = paginator.paginate_queryset(message_list(conversation=conversation), request)
            return paginator.get_paginated_response(MessageSerializer(page, many=True).data)
        author = staff_user(request)
        if author is None:
            raise PermissionDenied(_("Only a member of staff can write to a patient."))
        form = SendSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            message = message_send(conversation=conversation, author=author,
                                   now=clock.now(), **form.validated_data)
        except SendRefused as refused:
            return Response(error_body("send_refused", refused),
                            status=status.HTTP_409_CONFLICT)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)
