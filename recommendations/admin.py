"""The Django admin for model versions, scoring jobs and CDS clients.

What the services own stays read-only here: a model version changes only by
activation (the model pages). Recommendations and decisions are patient data:
they are read on the patient pages (audited, site-scoped), not here. Nothing is
deleted from the admin.
"""

from django.contrib import admin

from clinnova.admin import ReadOnlyAdmin
from recommendations.models import CdsCard, CdsClient, CdsFeedback, ModelVersion, RescoreRun, ScoringJob


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ("disease", "version", "status", "uploaded_by", "uploaded_at", "activated_by", "activated_at")
    list_filter = ("disease", "status")
    exclude = ("package",)

    def has_delete_permission(self, request, obj=None):
        return False  # recommendations refer to it; a version is retired, never deleted


@admin.register(ScoringJob)
class ScoringJobAdmin(ReadOnlyAdmin):
    # The visit by its id only: its __str__ would name the patient.
    list_display = ("id", "visit_id", "status", "attempts", "created_at", "finished_at", "reason")
    fields = ("visit_id", "status", "attempts", "reason", "rescore", "created_at", "started_at", "finished_at")
    readonly_fields = fields
    list_filter = ("status",)
    actions = ["requeue"]

    @admin.action(description="Send the selected failed or stuck jobs again")
    def requeue(self, request, queryset):
        from recommendations.jobs import job_send

        ids = list(queryset.exclude(status="done").values_list("pk", flat=True))
        queryset.filter(pk__in=ids).update(status="pending", attempts=0, reason="re-queued from the admin")
        for job_id in ids:
            job_send(job_id)
        self.message_user(request, f"{len(ids)} jobs sent again.")


@admin.register(RescoreRun)
class RescoreRunAdmin(ReadOnlyAdmin):
    list_display = ("model_version", "started_by", "created_at", "total")


@admin.register(CdsClient)
class CdsClientAdmin(admin.ModelAdmin):
    list_display = ("iss", "site", "origins", "created_at", "revoked_at")

    def has_delete_permission(self, request, obj=None):
        return False  # set revoked_at instead: its feedback refers to it


@admin.register(CdsCard)
class CdsCardAdmin(ReadOnlyAdmin):
    list_display = ("uuid", "client", "kind", "indicator", "drug_atc", "model_version", "issued_at")
    list_select_related = ("client__site", "model_version")


@admin.register(CdsFeedback)
class CdsFeedbackAdmin(ReadOnlyAdmin):
    list_display = ("client", "card", "outcome", "override_display", "outcome_at", "received_at")
