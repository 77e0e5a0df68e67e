from django.urls import path

from selfcare.support import views

app_name = "support"

urlpatterns = [
    path("", views.help_page, name="help"),
    path("requests/", views.request_list, name="requests"),
    path("requests/new/", views.request_new, name="request-new"),
    path("requests/<uuid:public_id>/", views.request_detail, name="request"),
    path("requests/<uuid:public_id>/close/", views.request_close, name="request-close"),
]
