"""Accounts and second factors in the Django admin: enrolment links issued and devices removed, both audited.

The audit trail itself is not here: privacy officers read it at /audit/, where every reading is recorded.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinnova.audit import Actor, audit_record
from clinnova.enrolment import enrolment_link_issue

for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows only the system writes: shown, never added, edited or deleted in the admin, not even by a superuser."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RemovalForm(forms.Form):
    reason = forms.CharField(min_length=10, max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="Why the device is removed (lost phone, person left, …): kept in the audit "
                                       "trail.")


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    """Devices are seen, never edited (the key stays secret); removal asks for a reason and is audited."""

    list_display = ("user", "name", "confirmed", "remove_link")
    fields = ("user", "name", "confirmed")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # a device is bound by its owner, through an enrolment link

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # only through remove_view, with a reason

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description="")
    def remove_link(self, obj):
        return format_html('<a href="{}">Remove…</a>', reverse("admin:otp_totp_totpdevice_remove", args=[obj.pk]))

    def get_urls(self):
        return [path("<int:pk>/remove/", self.admin_site.admin_view(self.remove_view),
                     name="otp_totp_totpdevice_remove")] + super().get_urls()

    def remove_view(self, request, pk):
        if not request.user.is_superuser:
            raise PermissionDenied("Only superusers remove second-factor devices.")
        device = get_object_or_404(TOTPDevice.objects.select_related("user"), pk=pk)
        form = RemovalForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                audit_record(actor=Actor.from_request(request), action="otp_device_remove", obj=device,
                             detail={"for": device.user.get_username(), "reason": form.cleaned_data["reason"]})
                device.delete()
            messages.success(request, f"{device.user.get_username()}'s device was removed; they need a new "
                                      "enrolment link to bind another.")
            return redirect("admin:otp_totp_totpdevice_changelist")
        return render(request, "admin/otp_device_remove.html", {
            **self.admin_site.each_context(request), "device": device, "form": form,
            "title": f"Remove {device.user.get_username()}'s second-factor device",
        }, status=400 if form.errors else 200)


admin.site.unregister(User)


@admin.register(User)
class ClinnovaUserAdmin(UserAdmin):
    actions = ["issue_enrolment_link"]

    def has_delete_permission(self, request, obj=None):
        return False  # audit events and decisions refer to people: deactivate an account instead

    @admin.action(description="Issue a one-time second-factor enrolment link")
    def issue_enrolment_link(self, request, queryset):
        if not request.user.is_superuser:
            raise PermissionDenied("Only superusers issue enrolment links.")
        actor = Actor.from_request(request)
        for user in queryset:
            link = request.build_absolute_uri(enrolment_link_issue(user=user, actor=actor))
            # Shown once, here: hand it to the person by a channel other than their password's.
            messages.warning(request, f"Enrolment link for {user.get_username()} (valid 72 hours, once): {link}")
