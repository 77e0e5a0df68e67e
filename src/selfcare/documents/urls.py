from django.urls import path

from selfcare.documents import views

app_name = "documents"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:company_id>/", views.company, name="company"),
    path("<int:company_id>/reconciliation/", views.order_reconciliation, name="order-reconciliation"),
    path("download/<uuid:public_id>/", views.download, name="download"),
]
