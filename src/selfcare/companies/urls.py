from django.urls import path

from selfcare.companies import views

app_name = "companies"

urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("applications/<str:tracking>/<str:token>/", views.application_status, name="application-status"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    # Placeholder: the company home (another branch) takes this name; drop this line when merging it.
    path("", views.home_placeholder, name="home"),
]
