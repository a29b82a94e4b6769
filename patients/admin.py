"""The Django admin for sites and EHR clients. It holds no patient data: patients, visits and therapies are read
and changed through the pages and doors (audited, site-scoped, through the visit service)."""

from django.contrib import admin
from django.utils import timezone

from clinnova.audit import Actor, audit_record
from patients.models import EHRClient, Site


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "country")
    filter_horizontal = ("members",)

    def has_delete_permission(self, request, obj=None):
        return False  # its patients, visits and audit events belong to it


@admin.register(EHRClient)
class EHRClientAdmin(admin.ModelAdmin):
    list_display = ("name", "site", "token_prefix", "identifier_system", "created_at", "last_used_at", "revoked_at")
    list_filter = ("site",)
    readonly_fields = ("token_prefix", "created_at", "last_used_at", "revoked_at")
    fields = ("site", "name", "identifier_system", "token_prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke_tokens"]

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: stored visits name the client that sent them

    def has_add_permission(self, request):
        # A token is shown once, on the command line: `manage.py create_ehr_client --site LU --name NAME`.
        return False

    def get_readonly_fields(self, request, obj=None):
        # The site and identifier system are baked into stored patient and visit ids.
        return self.readonly_fields + (("site", "identifier_system") if obj else ())

    @admin.action(description="Revoke selected tokens")
    def revoke_tokens(self, request, queryset):
        actor = Actor.from_request(request)
        clients = list(queryset.filter(revoked_at__isnull=True).select_related("site"))
        for client in clients:
            client.revoked_at = timezone.now()
            client.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="ehr_token_revoke", obj=client, site_code=client.site.code)
        self.message_user(request, f"Revoked {len(clients)} token{'s' if len(clients) != 1 else ''}.")
