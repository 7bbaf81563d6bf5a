from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinic.access import clinic_view
from clinic.models import Role


@clinic_view(Role.MANAGER)
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "campaigns/index.html")
