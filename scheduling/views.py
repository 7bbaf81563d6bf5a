from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinic.access import clinic_view


@clinic_view()
def calendar(request: HttpRequest) -> HttpResponse:
    return render(request, "scheduling/calendar.html")
