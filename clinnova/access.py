"""Roles. A role is a Django group, created by migration; membership is data."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

CLINICIAN = "clinician"
MODEL_ADMIN = "model_admin"
PRIVACY_OFFICER = "privacy_officer"
ROLES = (CLINICIAN, MODEL_ADMIN, PRIVACY_OFFICER)


def user_roles(user: AbstractBaseUser) -> frozenset[str]:
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_clinnova_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._clinnova_roles = cached
    return cached


def has_role(user: AbstractBaseUser, role: str) -> bool:
    return role in user_roles(user)
