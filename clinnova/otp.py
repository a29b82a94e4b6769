"""Two-step sign-in with an authenticator app (TOTP): enrol a device, then give a code after each password sign-in."""

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
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinnova.audit import OTP_ENROL, OTP_FAILED, OTP_VERIFY, Actor, audit_record
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

    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or \
        TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST":
        allowed, _ = device.verify_is_allowed()
        if form.is_valid() and allowed and device.verify_token(form.cleaned_data["token"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            _signed_in_with(request, device, action=OTP_ENROL)
            messages.success(request, "Two-step sign-in is on. From now on you give a code after your password.")
            return redirect(_next_url(request))
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
@require_http_methods(["GET", "POST"])
def verify(request):
    """The second step after the password: a code from the enrolled app."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return redirect(_with_next("otp:enrol", request))
    if user.is_verified():
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST":
        token = form.cleaned_data["token"].strip() if form.is_valid() else None
        allowed, _ = device.verify_is_allowed()
        if token and allowed and verify_token(user, device.persistent_id, token) is not None:
            _signed_in_with(request, device, action=OTP_VERIFY)
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
]
