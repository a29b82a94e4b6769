"""Two-step sign-in with an authenticator app (TOTP): enrol a device, then give a code after each password sign-in.

An account that needs a second factor binds its app only through a one-time enrolment link an administrator
issued (clinnova.enrolment); it then receives recovery codes, each good for one sign-in without the phone.
"""

from __future__ import annotations

import io
from base64 import b32encode
from urllib.parse import urlencode

import segno

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.urls import path
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinnova.audit import OTP_ENROL, OTP_FAILED, OTP_RECOVERY_USED, OTP_VERIFY, Actor, audit_record
from clinnova.enrolment import (
    SESSION_LINK,
    enrolment_link_find,
    enrolment_link_use,
    recovery_code_use,
    recovery_codes_issue,
)
from clinnova.signin import HAS_DEVICE, second_factor_required

DEVICE_NAME = "Authenticator app"
NO_MATCH = "That code did not match. Enter the code your app shows now (it changes every 30 seconds)."
# django-otp doubles the wait after each wrong code in a row (1, 2, 4, 8 … seconds), so codes cannot be guessed
# quickly. A person who mistypes gets the first FREE_RETRIES retries without a wait; the wait after any later
# failure is the one django-otp sets for that many failures, so the lockout is as long as before.
FREE_RETRIES = 3


class CodeForm(forms.Form):
    token = forms.RegexField(regex=r"^\s*\d{6}\s*$", label="Six-digit code",
                             error_messages={"invalid": "Enter the six digits your app shows."})


class VerifyForm(forms.Form):
    # Six digits from the app, or one of the recovery codes (letters and digits, as printed).
    token = forms.RegexField(regex=r"^\s*(\d{6}|[A-Za-z0-9 ]{6,20})\s*$", label="Code",
                             error_messages={"invalid": "Enter the six digits your app shows, or a recovery code."})


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url_name: str, request) -> str:
    return f"{resolve_url(url_name)}?{urlencode({'next': _next_url(request)})}"


def _wait_message(device: TOTPDevice) -> str:
    allowed, data = device.verify_is_allowed()
    if allowed:
        return NO_MATCH
    seconds = max(1, int(((data or {}).get("locked_until", timezone.now()) - timezone.now()).total_seconds() + 0.999))
    wait = f"{seconds} seconds" if seconds < 120 else f"{(seconds + 59) // 60} minutes"
    return (f"{device.throttling_failure_count} wrong codes in a row: wait {wait}, then enter the code your app "
            "shows at that moment.")


def _forgive_a_mistype(device: TOTPDevice) -> None:
    """After one of the first FREE_RETRIES wrong codes in a row, allow the next try at once (the count stays)."""
    device.refresh_from_db(fields=["throttling_failure_count", "throttling_failure_timestamp"])
    if 0 < device.throttling_failure_count <= FREE_RETRIES and device.throttling_failure_timestamp is not None:
        device.throttling_failure_timestamp = None
        device.save(update_fields=["throttling_failure_timestamp"])


def qr_svg(uri: str) -> str:
    """The otpauth:// link as a QR code in SVG (segno), for an authenticator app's camera."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=4, xmldecl=False, svgns=True, omitsize=True,
                                   svgclass="qr", lineclass=None, title=None, dark="#000", light="#fff")
    svg = out.getvalue().decode()
    return svg.replace("<svg ", '<svg role="img" aria-label="QR code of the setup link for your authenticator app" ', 1)


def _signed_in_with(request, device: TOTPDevice, *, action: str) -> None:
    # A new session key once the second factor is given, like Django does after the password.
    request.session.cycle_key()
    otp_login(request, device)
    request.session[HAS_DEVICE] = True
    audit_record(actor=Actor.from_request(request), action=action, obj=device)


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request):
    """Set up an authenticator app: show its secret, confirm it with one code."""
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if confirmed is not None:
        if not user.is_verified():
            # A second device may only be added by someone who has given the first one's code.
            return redirect(_with_next("otp:verify", request))
        return render(request, "otp/enrolled.html", {"device": confirmed})

    link_id = request.session.get(SESSION_LINK)
    if second_factor_required(user) and link_id is None:
        # The password alone must not be enough to bind a phone to a privileged account.
        return render(request, "otp/link_needed.html", status=403)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or \
        TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST":
        allowed, _ = device.verify_is_allowed()
        if form.is_valid() and allowed and device.verify_token(form.cleaned_data["token"].strip()):
            if link_id is not None and not enrolment_link_use(link_id=link_id):
                request.session.pop(SESSION_LINK, None)
                return render(request, "otp/link_needed.html", {"spent": True}, status=403)
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            request.session.pop(SESSION_LINK, None)
            _signed_in_with(request, device, action=OTP_ENROL)
            codes = recovery_codes_issue(user=user, actor=Actor.from_request(request))
            return render(request, "otp/recovery_codes.html", {"codes": codes, "next": _next_url(request),
                                                               "enrolled": True})
        audit_record(actor=Actor.from_request(request), action=OTP_FAILED, obj=device, detail={"step": "enrol"})
        if form.is_valid() and allowed:
            _forgive_a_mistype(device)
        error = _wait_message(device) if form.is_valid() else ""
    secret = b32encode(device.bin_key).decode()
    return render(request, "otp/enrol.html", {
        "form": form, "error": error, "next": _next_url(request),
        "required": second_factor_required(user),
        "otpauth_uri": device.config_url,
        # Safe as markup: segno draws modules as path data; no text of the link reaches the SVG.
        "qr": mark_safe(qr_svg(device.config_url)),
        "secret_groups": [secret[i:i + 4] for i in range(0, len(secret), 4)],
    })


@login_required
@require_GET
def enrol_with_link(request, token):
    """Open an enrolment link after signing in with the password: the enrolment page then shows the key."""
    link = enrolment_link_find(user=request.user, token=token)
    if link is None:
        audit_record(actor=Actor.from_request(request), action=OTP_FAILED, detail={"step": "enrolment link"})
        return render(request, "otp/link_needed.html", {"invalid": True}, status=400)
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect("otp:enrol")
    request.session[SESSION_LINK] = link.pk
    return redirect("otp:enrol")


@login_required
@require_http_methods(["GET", "POST"])
def recovery(request):
    """A signed-in, verified user replaces their recovery codes (the old ones stop working)."""
    if not request.user.is_verified():
        return redirect(_with_next("otp:verify", request))
    if request.method == "POST":
        codes = recovery_codes_issue(user=request.user, actor=Actor.from_request(request))
        return render(request, "otp/recovery_codes.html", {"codes": codes, "next": _next_url(request)})
    left = StaticToken.objects.filter(device__user=request.user, device__confirmed=True).count()
    return render(request, "otp/recovery.html", {"left": left})


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """The second step after the password: a code from the enrolled app."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return redirect(_with_next("otp:enrol", request))
    if user.is_verified():
        return redirect(_next_url(request))
    form = VerifyForm(request.POST or None)
    error = ""
    if request.method == "POST":
        token = form.cleaned_data["token"].strip() if form.is_valid() else None
        allowed, _ = device.verify_is_allowed()
        if token and allowed and token.isdigit() and verify_token(user, device.persistent_id, token) is not None:
            _signed_in_with(request, device, action=OTP_VERIFY)
            return redirect(_next_url(request))
        spare = recovery_code_use(user=user, token=token) if token and allowed and not token.isdigit() else None
        if spare is not None:
            _signed_in_with(request, spare, action=OTP_RECOVERY_USED)
            left = spare.token_set.count()
            messages.warning(request, f"You signed in with a recovery code; {left} remain. Replace them at "
                                      f"{resolve_url('otp:recovery')} once you have your phone again.")
            return redirect(_next_url(request))
        audit_record(actor=Actor.from_request(request), action=OTP_FAILED, obj=device, detail={"step": "verify"})
        if token and allowed:
            _forgive_a_mistype(device)
        error = _wait_message(device) if token else ""
    return render(request, "otp/verify.html", {"form": form, "error": error, "next": _next_url(request)})


app_name = "otp"
urlpatterns = [
    path("", enrol, name="enrol"),
    path("verify/", verify, name="verify"),
    path("enrol/<str:token>/", enrol_with_link, name="enrol_link"),
    path("recovery/", recovery, name="recovery"),
]
