from django.urls import path

from selfcare.identity import views

app_name = "identity"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/code/", views.register_code, name="register-code"),
    path("login/", views.login, name="login"),
    path("login/confirm/", views.login_confirm, name="login-confirm"),
    path("login/code/", views.login_code, name="login-code"),
    path("login/code/verify/", views.login_code_verify, name="login-code-verify"),
    path("reset/", views.reset, name="reset"),
    path("reset/code/", views.reset_code, name="reset-code"),
    path("logout/", views.logout, name="logout"),
    path("profile/", views.profile, name="profile"),
    path("profile/details/", views.profile_details, name="profile-details"),
    path("profile/block/", views.block_line, name="block-line"),
    path("profile/unblock/", views.unblock_line, name="unblock-line"),
    path("security/", views.security, name="security"),
    path("security/password/", views.change_password, name="password-change"),
    path("security/sessions/<int:session_id>/end/", views.end_session, name="end-session"),
    path("security/sessions/end-others/", views.end_other_sessions, name="end-other-sessions"),
    path("security/devices/<int:device_id>/forget/", views.forget_device, name="forget-device"),
]
