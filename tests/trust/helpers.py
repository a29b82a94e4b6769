"""What the trust tests share, and `verified` for any test whose user needs a second factor."""

from __future__ import annotations

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "a-long-test-password"  # tests/conftest.py gives every persona this one


def device_for(user, *, confirmed: bool = True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=confirmed)


def code(device: TOTPDevice, *, drift_steps: int = 0) -> str:
    """The six digits the user's app shows now (or drift_steps time steps away)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift_steps):06d}"


def verified(client, user) -> TOTPDevice:
    """Signs user in on client as if they had given their password and a TOTP code: the session holds a device."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or device_for(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def sign_in(client, username: str, password: str = PASSWORD, *, address: str = "10.0.0.1", **extra):
    """The password form, as a browser at `address` posts it."""
    return client.post("/accounts/login/", {"username": username, "password": password},
                       REMOTE_ADDR=address, **extra)
