"""Sign-in: audit of every attempt, the lockout page, absolute session lifetime and the second-factor gate.

Lockout counters are django-axes' (AXES_* settings); the second factor is a
django-otp TOTP device (clinnova/otp.py has the enrol and verify pages).
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, get_user_model, logout
from django.contrib.auth.views import PasswordChangeView
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django_otp import user_has_device

from clinnova.access import MODEL_ADMIN, PRIVACY_OFFICER, user_roles
from clinnova.audit import (
    PASSWORD_CHANGE, PASSWORD_CHANGE_FAILED, SESSION_EXPIRED, SIGN_IN, SIGN_IN_FAILED, SIGN_IN_LOCKED_OUT, SIGN_OUT,
    Actor, audit_record,
)

SIGNED_IN_AT = "clinnova_signed_in_at"
HAS_DEVICE = "clinnova_has_otp_device"
# Roles whose accounts can change what every patient is told, or read everyone's trail.
SECOND_FACTOR_ROLES = frozenset({MODEL_ADMIN, PRIVACY_OFFICER})


# --- the audit of sign-in (connected in ClinnovaConfig.ready) -------------------------------------

def on_signed_in(sender, request, user, **kwargs) -> None:
    request.session[SIGNED_IN_AT] = int(time.time())
    # Remembered for the session so the gate below needs no query on every request.
    request.session[HAS_DEVICE] = user_has_device(user)
    audit_record(actor=Actor.from_request(request, user=user), action=SIGN_IN)


def on_sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django has already masked the password in credentials; only the name that was tried is kept.
    username = str(credentials.get(get_user_model().USERNAME_FIELD, ""))[:150]
    actor = Actor.from_request(request) if request is not None else Actor()
    audit_record(actor=actor, action=SIGN_IN_FAILED, detail={"username": username})


def on_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    audit_record(actor=Actor.from_request(request), action=SIGN_IN_LOCKED_OUT,
                 detail={"username": str(username or "")[:150], "address": ip_address})


def on_signed_out(sender, request, user, **kwargs) -> None:
    if user is None:
        return  # nobody was signed in
    reason = getattr(request, "clinnova_sign_out_reason", "")
    audit_record(actor=Actor.from_request(request, user=user), action=SESSION_EXPIRED if reason else SIGN_OUT,
                 detail={"reason": reason} if reason else None)


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the lockout page, in the site's frame, with 429 Too Many Requests."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "otp/lockout.html",
                  {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT}, status=429)


# --- middleware --------------------------------------------------------------------------------------

class SessionLifetimeMiddleware:
    """Signs out a session SESSION_ABSOLUTE_SECONDS after sign-in, however active it was.

    Inactivity is handled by SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.session.get(SESSION_KEY) is not None:
            signed_in_at = request.session.get(SIGNED_IN_AT)
            now = int(time.time())
            if signed_in_at is None:
                # A session from before this rule: its lifetime starts now.
                request.session[SIGNED_IN_AT] = now
            elif now - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS:
                request.clinnova_sign_out_reason = "absolute_lifetime"
                logout(request)
                hours = settings.SESSION_ABSOLUTE_SECONDS // 3600
                messages.info(request, f"You were signed out: a session lasts at most {hours} hours. "
                                       "Please sign in again.")
        return self.get_response(request)


def second_factor_required(user) -> bool:
    """Model admins, privacy officers and anyone who may open the Django admin (staff, superusers)."""
    return bool(user.is_staff or user.is_superuser or SECOND_FACTOR_ROLES & user_roles(user))


class SecondFactorMiddleware:
    """Until a user who needs a second factor has given one, every page sends them to enrol or verify.

    Needed by model admins, privacy officers, and anyone who chose to enrol a
    device. The sign-in, sign-out and 2FA pages stay open; the session-signed
    API answers a JSON 403 instead of a redirect. Requests with an EHR token
    carry no session and are not concerned.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.session.get(SESSION_KEY) is not None and not self._open(request.path):
            user = request.user
            if user.is_authenticated and not user.is_verified() and (
                request.session.get(HAS_DEVICE) or second_factor_required(user)
            ):
                return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        open_paths = (reverse("login"), reverse("logout"), reverse("otp:enrol"), settings.STATIC_URL, "/health/")
        return path.startswith(open_paths)

    @staticmethod
    def _refuse(request):
        if request.path.startswith("/api/"):
            return JsonResponse({
                "code": "second_factor_required",
                "message": "Your account needs a second factor: verify a code from your authenticator app at "
                           f"{reverse('otp:enrol')} in the browser, then retry.",
                "errors": [],
            }, status=403)
        target = reverse("otp:verify") if request.session.get(HAS_DEVICE) or user_has_device(request.user) \
            else reverse("otp:enrol")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)


class AuditedPasswordChangeView(PasswordChangeView):
    """Django's password change, with the change (and a wrong current password) in the audit trail."""

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_record(actor=Actor.from_request(self.request), action=PASSWORD_CHANGE)
        return response

    def form_invalid(self, form):
        if "old_password" in form.errors:
            audit_record(actor=Actor.from_request(self.request), action=PASSWORD_CHANGE_FAILED,
                         detail={"reason": "current password wrong"})
        return super().form_invalid(form)
