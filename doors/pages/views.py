"""Clinician pages: the patient list, a patient's record and ranked therapies, decisions, new visits."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinnova.audit import Actor, audit_record, audit_record_patients
from doors.pages.forms import DecisionForm, VisitForm
from doors.pages.summary import decision_for_summary, summary_text
from doors.pages.selectors import (
    ACTIVITY_FILTERS,
    DECISION_STATUSES,
    LIST_SORTS,
    current_therapies,
    patient_compare,
    patient_list,
    patient_page,
)
from patients.access import patient_get_for_user
from patients.dictionary import DictionaryError, Disease
from patients.drugs import DRUGS
from patients.models import VisitSource
from patients.selectors import visit_form_disease
from patients.state import patient_state
from patients.services import visit_ingest
from recommendations.decisions import DecisionError, RecommendationSuperseded, decision_record

PAGE_SIZE = 25


@login_required
@require_GET
def patients_list(request):
    params = request.GET
    disease = params.get("disease", "")
    disease = disease if disease in Disease.values else ""
    filters = {
        "disease": disease,
        "site": params.get("site", "")[:8],
        "query": params.get("q", "")[:100],
        "therapy": params.get("therapy", "")[:8],
        "activity": params.get("activity", "")[:8],
        "decision": params.get("decision", "")[:16],
    }
    sort = params.get("sort", "recent") if params.get("sort") in LIST_SORTS else "recent"
    qs = patient_list(user=request.user, sort=sort, today=timezone.localdate(), **filters)
    page = Paginator(qs, PAGE_SIZE).get_page(params.get("page"))
    # Every row shown is a read of that patient; a search by identifier above all.
    audit_record_patients(actor=Actor.from_request(request), action="patient_view", patients=page.object_list,
                          detail={"page": "search" if filters["query"] else "list"})
    return render(request, "patients/list.html", {
        "page": page, "diseases": Disease.choices, "disease": disease, "site": filters["site"],
        "q": filters["query"], "therapy": filters["therapy"], "activity": filters["activity"],
        "decision": filters["decision"], "sort": sort, "sorts": [(k, v[0]) for k, v in LIST_SORTS.items()],
        "drugs": sorted(DRUGS, key=lambda d: d.name), "activity_filters": ACTIVITY_FILTERS,
        "decision_statuses": DECISION_STATUSES, "filtered": any(filters.values()),
        "today": timezone.localdate(),
    })


def _audit_view(request, patient, *, page: str) -> None:
    audit_record(actor=Actor.from_request(request), action="patient_view", obj=patient, patient_id=patient.pk,
                 site_code=patient.site.code, detail={"page": page})


def _patient_page(request, patient, *, decision_data=None, decision_error=None, status=200):
    """The full record, whatever the status it is answered with (an invalid decision shows it too): audited."""
    _audit_view(request, patient, page="detail")
    context = patient_page(patient, today=timezone.localdate())
    form = DecisionForm(decision_data, recommendation=context["recommendation"], current=context["current_therapies"])
    if decision_data is not None:
        form.is_valid()
        if decision_error is not None:
            form.add_error(decision_error.field if decision_error.field in form.fields else None, decision_error.message)
    return render(request, "patients/detail.html", {"patient": patient, "decision_form": form, **context},
                  status=status)


@login_required
@require_GET
def patient_detail(request, patient_id):
    patient = patient_get_for_user(request.user, patient_id, actor=Actor.from_request(request))
    return _patient_page(request, patient)


@login_required
@require_POST
def decision_create(request, patient_id):
    actor = Actor.from_request(request)
    patient = patient_get_for_user(request.user, patient_id, actor=actor)
    current = current_therapies(patient, on=timezone.localdate())
    form = DecisionForm(request.POST, recommendation=None, current=current)
    if not form.is_valid():
        return _patient_page(request, patient, decision_data=request.POST, status=400)
    try:
        recorded = decision_record(patient=patient, data=form.decision_input(), actor=actor,
                                   current_drugs={t.drug_atc for t in current}, today=timezone.localdate())
    except RecommendationSuperseded as exc:
        # Shown above the new ranking, where the redirect scrolls to: not at the top of a long page.
        messages.warning(request, exc.message, extra_tags="decision-form")
        return redirect(f"{patient.get_absolute_url()}#decision-alert")
    except DecisionError as exc:
        return _patient_page(request, patient, decision_data=request.POST, decision_error=exc, status=400)
    decision = recorded.decision
    if recorded.created:
        messages.success(request, f"Recorded: {decision.summary}.", extra_tags="decision-done")
    else:
        messages.info(request, f"This form was already submitted; its decision ({decision.summary}) was recorded "
                               "once.", extra_tags="decision-done")
    return redirect(f"{patient.get_absolute_url()}#decisions")


@login_required
@require_GET
def patient_summary(request, patient_id):
    """The one-page summary for printing and for the EHR note (copied as text)."""
    patient = patient_get_for_user(request.user, patient_id, actor=Actor.from_request(request))
    _audit_view(request, patient, page="summary")
    context = {"patient": patient, **patient_page(patient, today=timezone.localdate())}
    context["summary_decision"] = decision_for_summary(context["decisions"], context["recommendation"])
    now = timezone.localtime()
    clinician = request.user.get_username()
    return render(request, "patients/summary.html", {
        **context, "printed_at": now, "clinician": clinician,
        "text": summary_text(context, clinician=clinician, printed_at=now),
    })


@login_required
@require_GET
def patient_compare_view(request, patient_id):
    patient = patient_get_for_user(request.user, patient_id, actor=Actor.from_request(request))
    context = patient_compare(patient, a=request.GET.get("a", "")[:8], b=request.GET.get("b", "")[:8])
    drugs = context["drugs"]
    if not (request.GET.get("a") and request.GET.get("b")) and len(drugs) >= 2:
        # No choice yet: start with the top two (nothing shown, so nothing to audit yet).
        return redirect(f"{request.path}?a={drugs[0]['atc']}&b={drugs[1]['atc']}")
    _audit_view(request, patient, page="compare")
    return render(request, "patients/compare.html", {"patient": patient, "ehr_id": patient.primary_identifier,
                                                      **context})


@login_required
@require_http_methods(["GET", "POST"])
def visit_new(request, patient_id):
    actor = Actor.from_request(request)
    patient = patient_get_for_user(request.user, patient_id, actor=actor)  # visit_ingest audits a write
    disease, diseases = visit_form_disease(patient, request.POST.get("disease") or request.GET.get("disease"))
    if not disease:
        messages.error(request, "This patient has no diagnosis; a visit needs one.")
        return redirect(patient)
    state = patient_state(patient, on=timezone.localdate(), disease=disease)
    if request.method == "POST":
        form = VisitForm(request.POST, disease=disease, state=state)
        if form.is_valid():
            therapies = form.therapies()
            try:
                visit_ingest(site=patient.site, disease=disease, visit_date=form.cleaned_data["visit_date"],
                             measurements=form.measurements(), actor=actor, source=VisitSource.FORM,
                             patient=patient, therapies=[t for _, t in therapies])
            except DictionaryError as exc:
                form.add_dictionary_errors(exc, therapy_fields=[field for field, _ in therapies])
            else:
                messages.success(request, "Visit saved. The therapies are being ranked for it.")
                return redirect(patient)
    else:
        form = VisitForm(disease=disease, state=state)
    _audit_view(request, patient, page="visit_form")
    return render(request, "patients/visit_form.html", {
        "patient": patient, "ehr_id": patient.primary_identifier, "form": form, "disease": disease,
        "disease_label": Disease(disease).label,
        "diseases": [(d, Disease(d).label) for d in diseases],
    }, status=400 if form.errors else 200)
