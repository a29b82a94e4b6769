"""The Django admin: everything visible and editable, and visits still stored through the visit service."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinnova.audit import Actor, audit_record
from patients import services
from patients.dictionary import DictionaryError
from patients.models import (
    Diagnosis,
    EHRClient,
    IngestKey,
    Patient,
    PatientIdentifier,
    Site,
    TherapyExposure,
    Visit,
    VisitRevision,
    VisitSource,
)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "country")
    filter_horizontal = ("members",)


class IdentifierInline(admin.TabularInline):
    model = PatientIdentifier
    extra = 0


class DiagnosisInline(admin.TabularInline):
    model = Diagnosis
    extra = 0


class TherapyInline(admin.TabularInline):
    model = TherapyExposure
    extra = 0


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ("id", "site", "sex", "birth_year", "created_at")
    list_filter = ("site", "diagnoses__disease")
    search_fields = ("identifiers__value",)
    inlines = [IdentifierInline, DiagnosisInline, TherapyInline]


class VisitAdminForm(forms.ModelForm):
    class Meta:
        model = Visit
        fields = ("patient", "site", "disease", "visit_date", "measurements")

    def clean(self):
        data = super().clean()
        patient, disease = data.get("patient"), data.get("disease")
        if patient and data.get("site") and patient.site_id != data["site"].id:
            raise ValidationError({"site": "The visit's site must be the patient's site."})
        if disease is not None:
            from patients.dictionary import clean_measurements

            try:
                clean_measurements(disease, data.get("measurements") or {})
            except DictionaryError as exc:
                raise ValidationError({"measurements": [f"{e.field} = {e.value!r}: {e.message}" for e in exc.errors]})
        return data


class RevisionInline(admin.TabularInline):
    model = VisitRevision
    extra = 0
    can_delete = False
    readonly_fields = ("version", "visit_date", "measurements", "scores", "replaced_at", "replaced_by")


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    form = VisitAdminForm
    list_display = ("visit_date", "patient", "site", "disease", "activity_label", "activity_score", "source")
    list_filter = ("site", "disease", "source")
    readonly_fields = ("scores", "activity_score", "activity_category", "version", "source", "source_system",
                       "source_id", "created_at", "updated_at")
    inlines = [RevisionInline]

    def save_model(self, request, obj, form, change):
        # Through the visit service, so admin edits get scores, an audit event and a scoring job like any visit.
        actor = Actor.from_request(request)
        data = form.cleaned_data
        if change:
            saved = services.visit_amend(visit=obj, visit_date=data["visit_date"],
                                         measurements=data["measurements"] or {}, actor=actor)
        else:
            saved = services.visit_ingest(site=data["site"], disease=data["disease"], visit_date=data["visit_date"],
                                          measurements=data["measurements"] or {}, actor=actor,
                                          patient=data["patient"], source=VisitSource.ADMIN)
        obj.pk = saved.pk
        obj._state.adding = False


@admin.register(TherapyExposure)
class TherapyAdmin(admin.ModelAdmin):
    list_display = ("patient", "drug_atc", "started_on", "stopped_on", "outcome", "response_at_followup")
    list_filter = ("drug_atc", "outcome")


@admin.register(EHRClient)
class EHRClientAdmin(admin.ModelAdmin):
    list_display = ("name", "site", "token_prefix", "identifier_system", "created_at", "last_used_at", "revoked_at")
    list_filter = ("site",)
    readonly_fields = ("token_prefix", "created_at", "last_used_at", "revoked_at")
    fields = ("site", "name", "identifier_system", "token_prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke_tokens"]

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


@admin.register(IngestKey)
class IngestKeyAdmin(admin.ModelAdmin):
    list_display = ("ehr_visit_id", "client", "visit", "created_at")
    list_filter = ("client",)
    search_fields = ("ehr_visit_id",)
    readonly_fields = ("client", "ehr_visit_id", "visit", "content_hash", "payload", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

