from django.urls import path

from selfcare.companies import views

app_name = "companies"

urlpatterns = [
    # --- The company's cabinet (co-cabinet): home, lines, members ------------------------------------
    path("cabinet/", views.start, name="start"),
    # reverse("companies:home") without a company (after accepting an invitation) leads to the landing.
    path("cabinet/", views.start, name="home"),
    path("<int:company_id>/", views.home, name="home"),
    path("<int:company_id>/lines/", views.lines, name="lines"),
    path("<int:company_id>/lines/<int:line_id>/", views.line, name="line"),
    path("<int:company_id>/members/", views.members, name="members"),
    path("<int:company_id>/members/<int:membership_id>/role/", views.member_role, name="member-role"),
    path("<int:company_id>/members/<int:membership_id>/remove/", views.member_remove, name="member-remove"),
    # --- end of the company's cabinet ------------------------------------------------------------------
]
