from django.contrib import admin

from clinic.models import (
    Clinic,
    ClinicDayException,
    ClinicSettingChange,
    ConsentEvent,
    Membership,
    Patient,
    WorkerHeartbeat,
)


class DayExceptionInline(admin.TabularInline):
    model = ClinicDayException
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "phone", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline, DayExceptionInline]


@admin.register(ClinicSettingChange)
class ClinicSettingChangeAdmin(admin.ModelAdmin):
    list_display = ["clinic", "field", "changed_by", "changed_at"]
    list_filter = ["clinic"]
    readonly_fields = ["clinic", "changed_by", "changed_at", "field", "old_value", "new_value"]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "clinic", "role", "created_at"]
    list_filter = ["clinic", "role"]
    autocomplete_fields = ["user"]


class ConsentEventInline(admin.TabularInline):
    model = ConsentEvent
    extra = 0
    readonly_fields = ["recorded_at", "recorded_by"]


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["full_name", "phone", "clinic", "birthday", "preferred_channel"]
    list_filter = ["clinic", "preferred_channel", "opted_out_all", "open_complaint"]
    search_fields = ["last_name", "first_name", "phone"]
    inlines = [ConsentEventInline]


admin.site.register(WorkerHeartbeat)
