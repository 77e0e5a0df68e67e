from django.urls import path

from selfcare.companies import views

app_name = "companies"

urlpatterns = [
    # --- Business applications and invitations ----------------------------------------------------------
    path("apply/", views.apply, name="apply"),
    path("applications/<str:tracking>/<str:token>/", views.application_status, name="application-status"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    # --- The company's cabinet: home, lines, members -----------------------------------------------------
    path("cabinet/", views.start, name="start"),
    # reverse("companies:home") without a company (after accepting an invitation) leads to the start.
    path("cabinet/", views.start, name="home"),
    path("<int:company_id>/", views.home, name="home"),
    path("<int:company_id>/lines/", views.lines, name="lines"),
    path("<int:company_id>/lines/<int:line_id>/", views.line, name="line"),
    path("<int:company_id>/bulk/", views.bulk_page, name="bulk"),
    path("<int:company_id>/bulk/history/", views.bulk_history, name="bulk-history"),
    path("<int:company_id>/bulk/<int:request_id>/", views.bulk_request, name="bulk-request"),
    path(
        "<int:company_id>/lines/<int:line_id>/call-detail/", views.line_call_detail, name="line-call-detail"
    ),
    path(
        "<int:company_id>/lines/<int:line_id>/call-detail/code/",
        views.line_call_detail_code,
        name="line-call-detail-code",
    ),
    path("<int:company_id>/members/", views.members, name="members"),
    path("<int:company_id>/members/<int:membership_id>/role/", views.member_role, name="member-role"),
    path("<int:company_id>/members/<int:membership_id>/remove/", views.member_remove, name="member-remove"),
]
