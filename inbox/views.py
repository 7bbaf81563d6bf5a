from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinic.access import clinic_view


@clinic_view()
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "inbox/index.html")
