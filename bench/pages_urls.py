"""The product's URLs plus the benchmark's baseline: a bare Django view doing one indexed query."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def bare(request: HttpRequest) -> HttpResponse:
    from selfcare.lines.models import Line

    # One query on a unique index (the line by its number), answered as plain text.
    found = Line.objects.filter(msisdn=request.GET.get("n", "")).values_list("id", flat=True).first()
    return HttpResponse(str(found), content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare),
    path("", include("selfcare.urls")),
]
