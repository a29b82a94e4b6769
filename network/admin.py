"""A site node's participation switch, the models' monitoring thresholds; runs and alerts read-only."""

from django.contrib import admin
from django.utils import timezone

from clinnova.admin import ReadOnlyAdmin
from network.models import FederatedRun, MessageLog, MonitoringAlert, MonitoringThreshold, Participation


@admin.register(Participation)
class ParticipationAdmin(admin.ModelAdmin):
    list_display = ("taking_part", "reason", "changed_by", "changed_at")
    fields = ("taking_part", "reason")

    def has_add_permission(self, request):
        return not Participation.objects.exists()  # one switch per node

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.changed_by, obj.changed_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(MonitoringThreshold)
class MonitoringThresholdAdmin(admin.ModelAdmin):
    list_display = ("disease", "version", "psi_max", "oe_low", "oe_high")


@admin.register(FederatedRun)
class FederatedRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "kind", "model_version", "status", "created_at", "finished_at")
    list_filter = ("kind", "status")


@admin.register(MessageLog)
class MessageLogAdmin(ReadOnlyAdmin):
    list_display = ("run", "direction", "site_code", "message_type", "size_bytes", "logged_at")
    list_filter = ("direction", "site_code")


@admin.register(MonitoringAlert)
class MonitoringAlertAdmin(ReadOnlyAdmin):
    list_display = ("scope", "disease", "version", "kind", "month", "subject", "value", "raised_at")
