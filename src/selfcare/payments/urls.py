from django.urls import path

from selfcare.payments import views

app_name = "payments"

urlpatterns = [
    path("", views.topup, name="topup"),
    path("history/", views.history, name="history"),
    path("promised/", views.promised, name="promised"),
    path("cards/", views.cards, name="cards"),
    path("cards/<int:card_id>/remove/", views.remove_card, name="remove-card"),
    path("cards/<int:card_id>/replace/", views.replace_card, name="replace-card"),
    path("webhooks/<slug:provider>/", views.webhook, name="webhook"),
    path("<uuid:public_id>/", views.payment, name="payment"),
]
