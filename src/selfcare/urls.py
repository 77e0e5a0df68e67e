from django.contrib import admin
from django.urls import include, path

from selfcare.api.urls import api
from selfcare.notifications import views as notifications
from selfcare.tmf.urls import urls as tmf_urls
from selfcare.web import views as web

urlpatterns = [
    path("", web.landing, name="landing"),
    path("business/", web.business, name="business"),
    path("business/", include("selfcare.companies.urls")),
    path("healthz", web.healthz, name="healthz"),
    path("readyz", web.readyz, name="readyz"),
    path("metrics", web.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("backoffice/", admin.site.urls),
    path("api/v1/", api.urls),
    path("tmf-api/", tmf_urls),
    path("dev/sms", notifications.dev_sms, name="dev-sms"),
    path("payments/", include("selfcare.payments.urls")),
    path("fake-acquirer/", include("selfcare.payments.providers.fake.urls")),
    path("help/", include("selfcare.support.urls")),
    path("statements/", include("selfcare.statements.urls")),
    # The cabinet's home is /home/, where sign-in lands (before identity, which had a placeholder there).
    path("", include("selfcare.cabinet.urls")),
    path("", include("selfcare.identity.urls")),
]
