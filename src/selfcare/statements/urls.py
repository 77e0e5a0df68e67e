from django.urls import path

from selfcare.statements import views

app_name = "statements"

urlpatterns = [
    path("", views.order, name="order"),
    path("code/", views.send_code, name="send-code"),
    path("events/", views.events, name="events"),
    path("download/<str:token>/", views.download, name="download"),
    path("<uuid:public_id>/", views.detail, name="detail"),
]
