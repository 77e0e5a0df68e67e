from django.urls import path

from selfcare.cabinet import views

app_name = "cabinet"

urlpatterns = [
    path("home/", views.home, name="home"),
    path("spending/", views.spending, name="spending"),
    path("history/", views.history, name="history"),
    path("history/<int:transaction_id>/", views.history_item, name="history-item"),
    path("history/records/<int:record_id>/", views.usage_record, name="record"),
    path("tariff/", views.tariff, name="tariff"),
    path("tariff/<slug:code>/", views.tariff_change, name="tariff-change"),
    path("services/", views.services, name="services"),
    path("services/<slug:code>/<slug:action>/", views.service_change, name="service-change"),
    path("black-list/", views.black_list, name="black-list"),
    path("black-list/add/", views.black_list_add, name="black-list-add"),
    path("black-list/<int:entry_id>/remove/", views.black_list_remove, name="black-list-remove"),
]
