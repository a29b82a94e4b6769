"""The Django admin site, held to the rules of the rest of Clinnova.

- Only staff who have given their second factor get in (staff and superusers need one, like model admins).
- It holds no patient data: patients, visits, therapies, recommendations, decisions, EHR payloads and the audit
  trail are read and changed through the pages, the doors and the visit service, where every read is audited,
  every change goes through a service and every user sees only their own sites' patients.
- "Delete selected" exists nowhere; the models that may be deleted one at a time say so themselves.
"""

from __future__ import annotations

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode


class ClinnovaAdminSite(admin.AdminSite):
    site_header = "Clinnova administration"
    site_title = "Clinnova administration"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.disable_action("delete_selected")

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.is_verified())

    def login(self, request, extra_context=None):
        # One sign-in for the whole site: password, lockout and second factor as everywhere else.
        return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
