from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from clinnova.audit import Actor, audit_record
from patients.access import patient_get_for_user
from patients.dictionary import Disease
from patients.selectors import patient_list, patient_record


@login_required
def patients_list(request):
    disease = request.GET.get("disease", "")
    site = request.GET.get("site", "")
    query = request.GET.get("q", "")[:100]
    qs = patient_list(user=request.user, disease=disease if disease in Disease.values else "", site=site, query=query)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "patients/list.html", {
        "page": page, "diseases": Disease.choices, "disease": disease, "site": site, "q": query,
        "sites": request.user.sites.order_by("code"),
    })


@login_required
def patient_detail(request, patient_id):
    actor = Actor.from_request(request)
    patient = patient_get_for_user(request.user, patient_id, actor=actor)
    audit_record(actor=actor, action="patient_view", obj=patient, patient_id=patient.pk, site_code=patient.site.code)
    record = patient_record(patient)
    age = patient.age_on(timezone.localdate())
    from recommendations.selectors import recommendation_payload

    latest = record["latest_visit"]
    recommendation = recommendation_payload(latest) if latest else None
    return render(request, "patients/detail.html",
                  {"patient": patient, "age": age, "recommendation": recommendation, **record})
