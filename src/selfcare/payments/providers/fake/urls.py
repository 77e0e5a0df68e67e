from django.urls import path

from selfcare.payments.providers.fake import views

app_name = "fake_acquirer"

urlpatterns = [
    path("pay/<str:payment_id>/", views.pay, name="pay"),
    path("pay/<str:payment_id>/challenge/", views.challenge, name="challenge"),
    path("api/payments/<str:payment_id>", views.api_payment, name="api-payment"),
    path("test-hooks/<str:payment_id>/", views.test_hook, name="test-hook"),
]
