"""Subscriber sign-in pages: registration, password and code sign-in, new-device confirmation, reset,
security page, profile, logout (docs/identity.md). Signing in lands on the cabinet's home (/home/).

A flow that spans pages keeps its number in the session. Every page that takes a number answers the
same way whatever the number is: the services return nothing that tells a served number from another,
and these views add nothing either (no message, cookie or redirect that depends on it).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from selfcare.identity import services
from selfcare.identity.errors import InvalidCredentials, NoLine, TooManyRequests, WrongCurrentPassword
from selfcare.identity.forms import (
    AliasForm,
    BlockConfirmForm,
    CodeAndPasswordForm,
    CodeForm,
    LoginForm,
    NumberForm,
    PasswordChangeForm,
    ProfileForm,
)
from selfcare.identity.http import client_of
from selfcare.identity.models import AuditEvent, CodePurpose, User
from selfcare.kit import clock
from selfcare.kit.errors import BusinessError
from selfcare.kit.phone import format_international

FLOW_KEY = "identity_flow"
PENDING_KEY = "identity_pending_login"
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600

_START_URLS: dict[str, str] = {
    CodePurpose.REGISTRATION: "identity:register",
    CodePurpose.LOGIN: "identity:login-code",
    CodePurpose.RESET: "identity:reset",
}
_CODE_URLS: dict[str, str] = {
    CodePurpose.REGISTRATION: "identity:register-code",
    CodePurpose.LOGIN: "identity:login-code-verify",
    CodePurpose.RESET: "identity:reset-code",
}


def _error_status(exc: BusinessError) -> int:
    return 429 if isinstance(exc, TooManyRequests) else 200


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _finish_login(request: HttpRequest, user: User, *, method: str) -> HttpResponse:
    device_id = request.COOKIES.get(settings.SELFCARE_DEVICE_COOKIE_NAME) or services.new_device_id()
    flow_next = request.session.get(FLOW_KEY, {}).get("next", "")
    django_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.pop(FLOW_KEY, None)
    request.session.pop(PENDING_KEY, None)
    request.session.save()
    services.start_web_session(
        user,
        session_key=request.session.session_key or "",
        device_id=device_id,
        client=client_of(request),
        method=method,
    )
    target = (
        flow_next if url_has_allowed_host_and_scheme(flow_next, allowed_hosts={request.get_host()}) else ""
    )
    response = HttpResponseRedirect(target or reverse("cabinet:home"))
    response.set_cookie(
        settings.SELFCARE_DEVICE_COOKIE_NAME,
        device_id,
        max_age=DEVICE_COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    # The language chosen in the profile follows the subscriber to every browser they sign in from.
    _remember_language(response, user.language)
    return response


# --- starting a code flow: registration, sign-in by code, reset ----------------------------------------


def _start_code_flow(request: HttpRequest, purpose: str, template: str) -> HttpResponse:
    form = NumberForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        msisdn = form.cleaned_data["number"]
        try:
            services.request_code(msisdn, purpose=purpose, client=client_of(request))
        except BusinessError as exc:
            form.add_error(None, exc.render_message())
            status = _error_status(exc)
        else:
            request.session[FLOW_KEY] = {
                "purpose": purpose,
                "msisdn": msisdn,
                "next": request.GET.get("next", ""),
            }
            return redirect(_CODE_URLS[purpose])
    return render(request, template, {"form": form, "purpose": purpose}, status=status)


def _flow_number(request: HttpRequest, purpose: str) -> str | None:
    flow = request.session.get(FLOW_KEY) or {}
    return flow.get("msisdn") if flow.get("purpose") == purpose else None


def _resend(
    request: HttpRequest, msisdn: str, purpose: str, *, actor: str = "anonymous"
) -> tuple[int, dict[str, Any]]:
    """Ask for another code; the status of the page and the notice to show on it."""
    try:
        services.request_code(msisdn, purpose=purpose, client=client_of(request), actor=actor)
    except BusinessError as exc:
        return _error_status(exc), {"notice": exc.render_message(), "notice_error": True}
    return 200, {"notice": _("If this number can receive our codes, a new code is on its way.")}


@never_cache
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    return _start_code_flow(request, CodePurpose.REGISTRATION, "identity/register.html")


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    return _start_code_flow(request, CodePurpose.LOGIN, "identity/login_code.html")


@never_cache
@require_http_methods(["GET", "POST"])
def reset(request: HttpRequest) -> HttpResponse:
    return _start_code_flow(request, CodePurpose.RESET, "identity/reset.html")


def _code_and_password_page(request: HttpRequest, purpose: str, template: str) -> HttpResponse:
    msisdn = _flow_number(request, purpose)
    if msisdn is None:
        return redirect(_START_URLS[purpose])
    status, notice = 200, dict[str, Any]()
    if request.method == "POST" and "resend" in request.POST:
        form = CodeAndPasswordForm(msisdn=msisdn)
        status, notice = _resend(request, msisdn, purpose)
    else:
        form = CodeAndPasswordForm(request.POST or None, msisdn=msisdn)
        if request.method == "POST" and form.is_valid():
            complete = (
                services.complete_registration
                if purpose == CodePurpose.REGISTRATION
                else services.reset_password
            )
            try:
                user = complete(
                    msisdn,
                    code=form.cleaned_data["code"],
                    password=form.cleaned_data["password1"],
                    client=client_of(request),
                )
            except ValidationError as exc:
                form.add_error("password1", exc)
            except BusinessError as exc:
                form.add_error(None, exc.render_message())
                status = _error_status(exc)
            else:
                return _finish_login(request, user, method=purpose)
    context = {"form": form, "number": format_international(msisdn), "purpose": purpose, **notice}
    return render(request, template, context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def register_code(request: HttpRequest) -> HttpResponse:
    return _code_and_password_page(request, CodePurpose.REGISTRATION, "identity/register_code.html")


@never_cache
@require_http_methods(["GET", "POST"])
def reset_code(request: HttpRequest) -> HttpResponse:
    return _code_and_password_page(request, CodePurpose.RESET, "identity/reset_code.html")


@never_cache
@require_http_methods(["GET", "POST"])
def login_code_verify(request: HttpRequest) -> HttpResponse:
    msisdn = _flow_number(request, CodePurpose.LOGIN)
    if msisdn is None:
        return redirect("identity:login-code")
    status, notice = 200, dict[str, Any]()
    if request.method == "POST" and "resend" in request.POST:
        form = CodeForm()
        status, notice = _resend(request, msisdn, CodePurpose.LOGIN)
    else:
        form = CodeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                user = services.login_with_code(
                    msisdn, code=form.cleaned_data["code"], client=client_of(request)
                )
            except BusinessError as exc:
                form.add_error(None, exc.render_message())
                status = _error_status(exc)
            else:
                return _finish_login(request, user, method="code")
    context = {"form": form, "number": format_international(msisdn), **notice}
    return render(request, "identity/login_code_verify.html", context, status=status)


# --- password sign-in and the new-device step -----------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect("cabinet:home")
    form = LoginForm(request.POST or None)
    status = 200
    session_ended = request.session.pop("identity_session_ended", "") if request.method == "GET" else ""
    if request.method == "POST" and form.is_valid():
        client = client_of(request)
        try:
            user = services.authenticate_subscriber(
                form.cleaned_data["login"], form.cleaned_data["password"], client=client
            )
            device_id = request.COOKIES.get(settings.SELFCARE_DEVICE_COOKIE_NAME, "")
            if not services.needs_device_confirmation(user, device_id):
                request.session[FLOW_KEY] = {"next": request.GET.get("next", "")}
                return _finish_login(request, user, method="password")
            services.request_code(
                user.msisdn or "", purpose=CodePurpose.CONFIRM, client=client, actor=f"user:{user.pk}"
            )
        except (InvalidCredentials, TooManyRequests) as exc:
            form.add_error(None, exc.render_message())
            status = 401 if isinstance(exc, InvalidCredentials) else 429
        else:
            request.session[PENDING_KEY] = {"user": user.pk, "at": clock.now().timestamp()}
            request.session[FLOW_KEY] = {"next": request.GET.get("next", "")}
            return redirect("identity:login-confirm")
    return render(
        request, "identity/login.html", {"form": form, "session_ended": session_ended}, status=status
    )


def _pending_user(request: HttpRequest) -> User | None:
    pending = request.session.get(PENDING_KEY) or {}
    started = pending.get("at", 0)
    if clock.now().timestamp() - started > settings.SELFCARE_OTP_TTL_S:
        return None
    return User.objects.filter(pk=int(pending.get("user", 0)), is_active=True).first()


@never_cache
@require_http_methods(["GET", "POST"])
def login_confirm(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return redirect("identity:login")
    status, notice = 200, dict[str, Any]()
    if request.method == "POST" and "resend" in request.POST:
        form = CodeForm()
        status, notice = _resend(request, user.msisdn or "", CodePurpose.CONFIRM, actor=f"user:{user.pk}")
    else:
        form = CodeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.confirm_device(user, code=form.cleaned_data["code"], client=client_of(request))
            except BusinessError as exc:
                form.add_error(None, exc.render_message())
                status = _error_status(exc)
            else:
                return _finish_login(request, user, method="password+sms")
    context = {"form": form, "number": format_international(user.msisdn or ""), **notice}
    return render(request, "identity/login_confirm.html", context, status=status)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.session.session_key:
        services.log_out(_user(request), session_key=request.session.session_key, client=client_of(request))
    django_logout(request)
    return redirect("identity:login")


# --- signed-in pages ----------------------------------------------------------------------------------


_EVENT_LABELS = {
    "registration": _("Registration"),
    "login": _("Signed in"),
    "login.failed": _("Failed sign-in"),
    "otp.request": _("Code requested"),
    "otp.send": _("Code sent"),
    "otp.check": _("Code entered"),
    "password.change": _("Password changed"),
    "password.reset": _("Password reset"),
    "session.end": _("Session ended"),
    "device.forget": _("Device forgotten"),
    "alias.set": _("Alias changed"),
    "token.refresh": _("App token renewed"),
    "token.revoke": _("App signed out"),
}


def _labelled(event: AuditEvent) -> AuditEvent:
    event.label = _EVENT_LABELS.get(event.action, event.action)  # type: ignore[attr-defined]
    return event


@never_cache
@login_required
def security(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    current = services.session_hash(request.session.session_key or "")
    context = {
        "sessions": services.list_active_sessions(user),
        "current_session_hash": current,
        "devices": services.list_devices(user),
        "events": [_labelled(event) for event in services.list_own_audit_events(user)],
        "idle_minutes": settings.SELFCARE_SESSION_IDLE_TIMEOUT_S // 60,
    }
    return render(request, "identity/security.html", context)


@login_required
@require_POST
def end_session(request: HttpRequest, session_id: int) -> HttpResponseBase:
    user = _user(request)
    services.end_web_session(user, session_id, actor=f"user:{user.pk}", client=client_of(request))
    return redirect("identity:security")


@login_required
@require_POST
def end_other_sessions(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    services.end_other_sessions(
        user,
        keep_session_key=request.session.session_key or "",
        actor=f"user:{user.pk}",
        client=client_of(request),
        reason="ended_by_user",
    )
    return redirect("identity:security")


@login_required
@require_POST
def forget_device(request: HttpRequest, device_id: int) -> HttpResponseBase:
    services.forget_device(_user(request), device_id, client=client_of(request))
    return redirect("identity:security")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def change_password(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = PasswordChangeForm(request.POST or None)
    status = 200
    done = False
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(
                user,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["password1"],
                keep_session_key=request.session.session_key or "",
                client=client_of(request),
            )
        except ValidationError as exc:
            form.add_error("password1", exc)
        except WrongCurrentPassword as exc:
            form.add_error("current_password", exc.render_message())
        except BusinessError as exc:
            form.add_error(None, exc.render_message())
            status = _error_status(exc)
        else:
            # The session hash of the auth framework follows the new password, so this session stays.
            from django.contrib.auth import update_session_auth_hash

            update_session_auth_hash(request, user)
            done = True
            form = PasswordChangeForm()
    return render(request, "identity/password_change.html", {"form": form, "done": done}, status=status)


def _remember_language(response: HttpResponse, language: str) -> None:
    """The language cookie Django's LocaleMiddleware reads, so the pages follow the chosen language."""
    if language in {code for code, _name in settings.LANGUAGES}:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            samesite="Lax",
        )


def _profile_form(profile: services.Profile, data: Any = None) -> ProfileForm:
    initial = {"email": profile.email, "language": profile.language, "sms_kinds": sorted(profile.sms_enabled)}
    return ProfileForm(data, initial=initial, email_editable=profile.email_editable)


def _profile_page(
    request: HttpRequest,
    *,
    alias_form: AliasForm | None = None,
    details_form: ProfileForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    alias = "" if user.username == user.msisdn else user.username
    context: dict[str, Any] = {
        "form": alias_form or AliasForm(initial={"alias": alias}),
        "number": format_international(user.msisdn or ""),
        "profile": None,
    }
    try:
        profile = services.get_profile(user)
    except NoLine:
        pass  # staff, or a line that is gone: only the alias is shown
    else:
        context["profile"] = profile
        context["details_form"] = details_form or _profile_form(profile)
        context["line_status"] = LINE_STATUS_LABELS.get(profile.line_status, profile.line_status)
    return render(request, "identity/profile.html", context, status=status)


LINE_STATUS_LABELS = {
    "active": _("Active"),
    "blocked_subscriber": _("Blocked at your request"),
    "blocked_debt": _("Outgoing services suspended for debt"),
    "terminated": _("Terminated"),
}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method != "POST":
        return _profile_page(request)
    form = AliasForm(request.POST)
    if form.is_valid():
        try:
            services.set_alias(user, alias=form.cleaned_data["alias"], client=client_of(request))
        except BusinessError as exc:
            form.add_error("alias", exc.render_message())
        else:
            messages.success(request, _("Saved."))
            return redirect("identity:profile")
    return _profile_page(request, alias_form=form)


@never_cache
@login_required
@require_POST
def profile_details(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        current = services.get_profile(user)
    except NoLine:
        raise Http404 from None
    form = _profile_form(current, request.POST)
    if form.is_valid():
        try:
            updated = services.update_profile(
                user,
                client=client_of(request),
                email=form.cleaned_data["email"] if current.email_editable else None,
                language=form.cleaned_data["language"],
                sms_enabled=set(form.cleaned_data["sms_kinds"]),
            )
        except BusinessError as exc:
            form.add_error(None, exc.render_message())
        else:
            translation.activate(updated.language)
            messages.success(request, _("Saved."))
            response = redirect("identity:profile")
            _remember_language(response, updated.language)
            return response
    return _profile_page(request, details_form=form)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def block_line(request: HttpRequest) -> HttpResponse:
    """The confirm step before the subscriber blocks their own number."""
    user = _user(request)
    try:
        current = services.get_profile(user)
    except NoLine:
        raise Http404 from None
    form = BlockConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.block_own_line(user)
        except BusinessError as exc:
            messages.error(request, exc.render_message())
        else:
            messages.success(request, _("Your number is blocked. You can unblock it here at any time."))
        return redirect("identity:profile")
    context = {"form": form, "number": format_international(current.msisdn), "profile": current}
    return render(request, "identity/block_confirm.html", context)


@login_required
@require_POST
def unblock_line(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        profile = services.unblock_own_line(user)
    except NoLine:
        raise Http404 from None
    except BusinessError as exc:
        messages.error(request, exc.render_message())
    else:
        if profile.line_status == "blocked_debt":
            messages.warning(
                request,
                _("Your block is lifted. Outgoing services stay suspended until the debt is paid: top up."),
            )
        else:
            messages.success(request, _("Your number is unblocked and works again."))
    return redirect("identity:profile")
