"""Sign-in, second factor, password and notification pages (thin: services in mfa.py etc.)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from wellcheck.accounts import mfa
from wellcheck.accounts.forms import CodeForm
from wellcheck.accounts.middleware import ENDED_KEY
from wellcheck.accounts.models import User
from wellcheck.accounts.notifications import notifications_for, notifications_mark_read
from wellcheck.accounts.sessions import session_register
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.core.routes import public, signed_in

ENDED_WORDS = {
    "idle": "You were signed out after a period without activity. Sign in again.",
    "superseded": "You were signed out because your account signed in somewhere else.",
}


def safe_next(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class LoginView(auth_views.LoginView):
    """Password step. django-axes counts failures (5 per user name and address, 10 minutes)."""

    template_name = "registration/login.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        ended = self.request.session.pop(ENDED_KEY, None)
        context["ended_message"] = ENDED_WORDS.get(ended or "", "")
        return context


login_view = public(LoginView.as_view())
logout_view = public(auth_views.LogoutView.as_view())


@signed_in
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code, enter a code; recovery codes shown once."""
    user = request.user
    if mfa.confirmed_device(user) is not None and not request.user.is_verified():  # type: ignore[union-attr]
        return redirect("accounts:mfa_verify")
    device = mfa.pending_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = mfa.mfa_confirm(
            request=request, user=user, device=device, code=form.cleaned_data["code"]
        )
        if codes is not None:
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "next": safe_next(request)},
            )
        form.add_error(
            "code", "That code did not match. Check the time on your phone and try the next code."
        )
    return render(
        request,
        "accounts/mfa_enrol.html",
        {
            "form": form,
            "qr_svg": mfa.qr_svg(device),
            "secret": mfa.secret_base32(device),
            "next": safe_next(request),
        },
    )


@signed_in
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """Second sign-in step: a TOTP code (single-use) or a recovery code."""
    if mfa.confirmed_device(request.user) is None:
        return redirect("accounts:mfa_enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.mfa_verify(request=request, user=request.user, code=form.cleaned_data["code"]):
            return redirect(safe_next(request))
        form.add_error("code", "That code did not work. Enter the current code from your app.")
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": safe_next(request)})


@signed_in
@require_POST
def recovery_codes_new(request: HttpRequest) -> HttpResponse:
    """Replace the recovery codes (the old ones stop working)."""
    codes = mfa.recovery_codes_issue(user=request.user)
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": "/"})


@signed_in
def mfa_replace(request: HttpRequest) -> HttpResponse:
    """Remove one's authenticator (a lost or new phone) after re-entering the password; the next
    page is the enrolment. Audited (``sign_in.mfa_disabled``)."""
    error = ""
    if request.method == "POST":
        if request.user.check_password(request.POST.get("password", "")):
            mfa.mfa_disable(actor=request.user, user=request.user)
            return redirect("accounts:mfa_enrol")
        error = "That is not your password."
    return render(request, "accounts/mfa_replace.html", {"error": error})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)  # saves, then keeps this session signed in
        user = self.request.user
        assert isinstance(user, User)  # @signed_in
        audit_record(actor=user, event_type=EventType.PASSWORD_CHANGED, target=user)
        # The session key changed: register the new one (and end the user's other sessions).
        session_register(user=self.request.user, session=self.request.session)
        return response


password_change = signed_in(PasswordChangeView.as_view())
password_change_done = signed_in(
    auth_views.PasswordChangeDoneView.as_view(
        template_name="registration/password_change_done.html"
    )
)


class PasswordResetView(auth_views.PasswordResetView):
    """The same answer and page whether or not the address belongs to anyone (no enumeration)."""

    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_done")
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form: Any) -> HttpResponse:
        audit_record(actor=None, event_type=EventType.PASSWORD_RESET_REQUESTED, component="web")
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        audit_record(actor=form.user, event_type=EventType.PASSWORD_RESET_DONE, target=form.user)
        return response


password_reset = public(PasswordResetView.as_view())
password_reset_done = public(
    auth_views.PasswordResetDoneView.as_view(template_name="registration/password_reset_done.html")
)
password_reset_confirm = public(PasswordResetConfirmView.as_view())
password_reset_complete = public(
    auth_views.PasswordResetCompleteView.as_view(
        template_name="registration/password_reset_complete.html"
    )
)


@signed_in
def notifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        count = notifications_mark_read(actor=request.user)
        messages.success(request, f"{count} notification(s) marked read.")
        return redirect("accounts:notifications")
    return render(
        request, "accounts/notifications.html", {"items": notifications_for(request.user)}
    )
