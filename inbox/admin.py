from django.contrib import admin

from inbox.models import Channel, ContactIdentity, Conversation, DialogueWindow, Message


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "clinic", "is_active", "created_at"]
    list_filter = ["kind", "is_active", "clinic"]
    # Secrets are edited in the clinic's channel settings, where they are never shown back.
    exclude = ["bot_token", "webhook_secret", "access_token", "app_secret", "verify_token"]


@admin.register(ContactIdentity)
class ContactIdentityAdmin(admin.ModelAdmin):
    list_display = ["__str__", "channel", "phone", "patient", "created_at"]
    search_fields = ["display_name", "phone", "external_id"]
    raw_id_fields = ["patient", "suggested_patients"]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "clinic", "status", "assignee", "last_message_at"]
    list_filter = ["status", "clinic"]
    raw_id_fields = ["contact", "patient", "assignee"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "conversation", "status", "created_at"]
    list_filter = ["direction", "kind", "status"]
    raw_id_fields = ["conversation", "author"]
    readonly_fields = ["provider_message_id", "provider_timestamp", "created_at", "sent_at"]


@admin.register(DialogueWindow)
class DialogueWindowAdmin(admin.ModelAdmin):
    """Written by resolving in the inbox; read-only here."""

    list_display = ["__str__", "clinic", "status", "outcome", "administrator", "resolved_at",
                    "resolve_count", "satisfaction"]
    list_filter = ["status", "outcome", "clinic"]
    raw_id_fields = ["conversation", "first_message", "last_message", "appointment",
                     "administrator", "resolved_by", "reopened_by", "satisfaction_message"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
