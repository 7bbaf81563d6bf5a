from django.contrib import admin

from scheduling.models import (
    Appointment,
    Doctor,
    DoctorSchedule,
    DoctorScheduleException,
    Service,
)


class DoctorScheduleInline(admin.StackedInline):
    model = DoctorSchedule
    extra = 0


class DoctorScheduleExceptionInline(admin.TabularInline):
    model = DoctorScheduleException
    extra = 0


@admin.register(Doctor)
class DoctorAdmin(admin.ModelAdmin):
    list_display = ["name", "clinic", "specialties", "active"]
    list_filter = ["clinic", "active"]
    search_fields = ["name"]
    raw_id_fields = ["staff_account"]
    inlines = [DoctorScheduleInline, DoctorScheduleExceptionInline]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "clinic", "category", "duration_minutes", "price_min", "price_max",
                    "active"]
    list_filter = ["clinic", "category", "active"]
    search_fields = ["name"]
    filter_horizontal = ["doctors"]


@admin.register(DoctorScheduleException)
class DoctorScheduleExceptionAdmin(admin.ModelAdmin):
    list_display = ["doctor", "date", "kind", "intervals", "note"]
    list_filter = ["kind", "doctor__clinic"]
    date_hierarchy = "date"


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["start", "end", "doctor", "service", "patient", "status", "clinic"]
    list_filter = ["status", "clinic", "doctor"]
    date_hierarchy = "start"
    search_fields = ["patient__last_name", "patient__phone", "doctor__name"]
    raw_id_fields = ["patient", "created_by"]
    list_select_related = ["doctor", "service", "patient", "clinic"]
