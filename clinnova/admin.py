from django.contrib import admin

from clinnova.models import AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows only the system writes: shown, never added, edited or deleted in the admin, not even by a superuser."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit trail is never edited, not even by a superuser."""

    list_display = ("at", "actor_user", "actor_client", "action", "object_type", "patient_id", "site_code")
    list_filter = ("action", "site_code")
    search_fields = ("patient_id", "object_id", "actor_client")
