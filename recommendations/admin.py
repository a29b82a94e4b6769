"""The Django admin for model versions, jobs, recommendations, decisions and CDS clients.

What the services own stays read-only here: a model version changes only by
activation (the model pages), a recommendation only by scoring, a decision only
by the clinician who made it. The admin shows them; it does not edit history.
"""

from django.contrib import admin

from recommendations.models import (
    CdsClient,
    CdsFeedback,
    Decision,
    ModelVersion,
    Recommendation,
    RecommendationItem,
    RescoreRun,
    ScoringJob,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ("disease", "version", "status", "uploaded_by", "uploaded_at", "activated_by", "activated_at")
    list_filter = ("disease", "status")
    exclude = ("package",)

    def has_delete_permission(self, request, obj=None):
        return False  # recommendations refer to it; a version is retired, never deleted


@admin.register(ScoringJob)
class ScoringJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "visit", "status", "attempts", "created_at", "finished_at", "reason")
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


class ItemInline(admin.TabularInline):
    model = RecommendationItem
    extra = 0
    can_delete = False
    fields = ("rank", "drug_atc", "probability", "contraindicated", "flags")
    readonly_fields = fields


@admin.register(Recommendation)
class RecommendationAdmin(ReadOnlyAdmin):
    list_display = ("visit", "status", "model_version", "created_at", "superseded_at")
    list_filter = ("status", "model_version__disease")
    inlines = [ItemInline]


@admin.register(RescoreRun)
class RescoreRunAdmin(ReadOnlyAdmin):
    list_display = ("model_version", "started_by", "created_at", "total")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("visit", "drug_atc", "was_top", "reason", "decided_by", "decided_at")
    list_filter = ("was_top", "reason")


@admin.register(CdsClient)
class CdsClientAdmin(admin.ModelAdmin):
    list_display = ("iss", "site", "created_at", "revoked_at")


@admin.register(CdsFeedback)
class CdsFeedbackAdmin(ReadOnlyAdmin):
    list_display = ("client", "card", "outcome", "override_display", "outcome_at", "received_at")
