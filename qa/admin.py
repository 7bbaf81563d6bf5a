"""Quality in the Django admin: for looking things up. Scorecards are the engine's and the
managers' record, so they are read-only here; revisions are changed through the owner's editor
(a used revision never changes)."""

from django.contrib import admin
from django.http import HttpRequest

from qa.models import (
    ChecklistItem,
    ChecklistRevision,
    ItemOverride,
    QaSettings,
    Scorecard,
    ScorecardItem,
)


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(QaSettings)
class QaSettingsAdmin(admin.ModelAdmin):
    list_display = ["clinic", "review_threshold", "review_share"]
    raw_id_fields = ["clinic"]


class ChecklistItemInline(ReadOnlyMixin, admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = ["position", "code", "title", "weight", "enabled", "critical", "parameters"]
    readonly_fields = fields


@admin.register(ChecklistRevision)
class ChecklistRevisionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["clinic", "number", "is_current", "created_at", "created_by"]
    list_filter = ["is_current", "clinic"]
    list_select_related = ["clinic", "created_by"]
    inlines = [ChecklistItemInline]


class ScorecardItemInline(ReadOnlyMixin, admin.TabularInline):
    model = ScorecardItem
    extra = 0
    fields = ["position", "code", "result", "auto_result", "weight", "critical", "evidence",
              "why", "params"]
    readonly_fields = fields


@admin.register(Scorecard)
class ScorecardAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["__str__", "clinic", "administrator", "score", "review_state", "ack_state",
                    "is_current", "scored_at"]
    list_filter = ["review_state", "ack_state", "is_current", "outcome", "channel_kind",
                   "clinic"]
    list_select_related = ["clinic", "administrator"]
    date_hierarchy = "scored_at"
    inlines = [ScorecardItemInline]


@admin.register(ScorecardItem)
class ScorecardItemAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["scorecard", "code", "result", "auto_result"]
    list_filter = ["code", "result"]
    list_select_related = ["scorecard"]
    raw_id_fields = ["scorecard"]


@admin.register(ItemOverride)
class ItemOverrideAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["item", "result", "reason", "manager", "created_at"]
    list_select_related = ["item", "manager"]
