"""The patient-view service: which patient the EHR means, and the cards Clinnova answers with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from rest_framework import exceptions

from clinnova.audit import Actor, audit_record
from clinnova.text import markdown_escape
from doors.cds.ranking import EXPLAINED, RankedDrug, Ranking, ranking_for
from patients import dictionary
from patients.dictionary import Disease
from patients.models import EHRClient, Patient
from patients.selectors import patient_for_client
from recommendations.models import CdsCard, CdsCardKind, CdsClient

SERVICE_ID = "clinnova-therapy-ranking"
HOOK = "patient-view"
TOP = EXPLAINED
PREFETCH_COUNT = 100
NOT_PREFETCHED = ("The EHR did not send its recent observations (prefetch `observations`) and Clinnova does not "
                  "query the EHR's FHIR server: observations recorded after this visit are not taken into account.")
# Only the codes the dictionary reads are worth prefetching.
_LOINC = ",".join(f"http://loinc.org|{v.loinc}" for v in dictionary.VARIABLES
                  if v.loinc and v.origin == dictionary.Origin.MEASURED)
SERVICE = {
    "hook": HOOK,
    "id": SERVICE_ID,
    "title": "Clinnova therapy ranking",
    "description": "Ranks the advanced therapies for a patient with Crohn's disease, ulcerative colitis, rheumatoid "
                   "arthritis or multiple sclerosis by the modelled chance of response, with the main reasons and "
                   f"safety flags. {settings.SYNTHETIC_NOTICE}.",
    "prefetch": {
        "patient": "Patient/{{context.patientId}}",
        # Bounded: the newest PREFETCH_COUNT observations of the codes read. Only observations newer than the
        # patient's last stored visit are used, so the newest are the ones that matter. A date window
        # (date=ge<today - n>) cannot be written: prefetch tokens are context fields only, without arithmetic
        # (CDS Hooks 2.0, Prefetch tokens), so the window is applied here instead (after the last visit, not
        # after today).
        "observations": "Observation?patient={{context.patientId}}&code=" + _LOINC
                        + f"&_sort=-date&_count={PREFETCH_COUNT}",
    },
    "usageRequirements": "Register the client's public JWK Set with `manage.py register_cds_client`; the client "
                         "sees the patients of its own site. Clinnova does not query the EHR's FHIR server: "
                         "send the prefetch.",
}


def discovery() -> dict:
    return {"services": [SERVICE]}


def request_check(body: Any) -> tuple[str, dict]:
    """The patientId and prefetch of a patient-view request; ValidationError (400) naming what is missing."""
    if not isinstance(body, dict):
        raise exceptions.ValidationError({"body": ["must be a CDS Hooks request object"]})
    errors = {}
    if body.get("hook") != HOOK:
        errors["hook"] = [f"must be {HOOK}"]
    if not isinstance(body.get("hookInstance"), str):
        errors["hookInstance"] = ["is required"]
    context = body.get("context")
    patient_id = context.get("patientId") if isinstance(context, dict) else None
    if not isinstance(patient_id, str) or not patient_id:
        errors["context.patientId"] = ["is required"]
    prefetch = body.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, dict):
        errors["prefetch"] = ["must be an object keyed by prefetch template name"]
    if errors:
        raise exceptions.ValidationError(errors)
    return patient_id, prefetch or {}


def patient_resolve(client: CdsClient, patient_id: str) -> Patient | None:
    """The patient `context.patientId` names for this CDS client: a Patient.id (or patient id) that the same EHR's
    FHIR/JSON client (EHRClient.cds_issuer = this client's iss) sent, or Clinnova's patient id; None if none or
    ambiguous. Another EHR's ids, or an identifier value of another system, never match."""
    clients = list(EHRClient.objects.filter(site_id=client.site_id, cds_issuer=client.iss, revoked_at__isnull=True))
    if not clients:
        return _clinnova_patient(client.site_id, patient_id)
    return patient_for_client(clients=clients, patient_id=patient_id)


def _clinnova_patient(site_id: int, patient_id: str) -> Patient | None:
    try:
        return Patient.objects.filter(pk=uuid.UUID(patient_id), site_id=site_id).first()
    except ValueError:
        return None


def patient_view_answer(*, client: CdsClient, body: Any, actor: Actor, base_url: str) -> dict:
    """The cards for a patient-view call: {"cards": []} when the patient or a ranking is not known.

    Every card returned is stored (CdsCard) with what it showed, so feedback can name it.
    """
    patient_id, prefetch = request_check(body)
    patient = patient_resolve(client, patient_id)
    if patient is None:
        audit_record(actor=actor, action="access_refused", site_code=client.site.code,
                     detail={"reason": "patient not found at the client's site", "via": "cds-hooks"})
        return {"cards": []}
    ranking = ranking_for(patient, prefetched=prefetch.get("observations"))
    if ranking is None:
        return {"cards": []}
    hook_instance = body["hookInstance"][:100].replace("\x00", "")
    audit_record(actor=actor, action="recommendation_read", obj=ranking.visit, patient_id=patient.pk,
                 site_code=client.site.code,
                 detail={"via": "cds-hooks", "hook_instance": hook_instance, "live": ranking.live})
    # A key the client left out is data it chose not to (or could not) fetch; null means it has none (CDS Hooks 2.0,
    # Prefetch Template). Only the former leaves newer observations unknown.
    note = NOT_PREFETCHED if "observations" not in prefetch else ""
    issued = cards_for(patient, ranking, base_url=base_url, note=note)
    cards_store(client=client, patient=patient, ranking=ranking, issued=issued, hook_instance=hook_instance)
    return {"cards": [card for card, _ in issued]}


def cards_store(*, client: CdsClient, patient: Patient, ranking: Ranking, issued: list[tuple[dict, IssuedMeta]],
                hook_instance: str) -> list[CdsCard]:
    """Keep every issued card, one insert for all."""
    return CdsCard.objects.bulk_create([
        CdsCard(uuid=card["uuid"], client=client, service_id=SERVICE_ID, hook_instance=hook_instance,
                patient=patient, visit=ranking.visit, recommendation_id=ranking.recommendation_id,
                model_version=ranking.model_version, kind=meta.kind, indicator=card["indicator"],
                drug_atc=meta.drug_atc, summary=card["summary"][:140])
        for card, meta in issued])


@dataclass(frozen=True)
class IssuedMeta:
    kind: str
    drug_atc: str


def cards_for(patient: Patient, ranking: Ranking, *, base_url: str, note: str = "") -> list[tuple[dict, IssuedMeta]]:
    """One info card with the top drugs and their reasons, then for each top drug a card per kind of flag:
    critical for contraindications, warning for the licence, checks before starting and warnings.

    Links lead to the patient's page on this node (sign-in required; no SMART launch), flag cards' source to
    the safety rules page of the drug.
    """
    mv = ranking.model_version
    disease = Disease(mv.disease).label
    patient_url = base_url + patient.get_absolute_url()
    label = f"Clinnova · {disease} model v{mv.version} · synthetic training data"
    topic = {"system": "urn:clinnova:cds", "code": "therapy-ranking", "display": "Therapy ranking"}
    links = [{"label": "Open the patient in Clinnova", "url": patient_url, "type": "absolute"}]
    top = ranking.drugs[:TOP]
    summary = "Clinnova: " + ", ".join(f"{d.name} {d.probability:.0%}{_outside(d)}" for d in top)
    detail = _detail(ranking, top) + (f"\n\n{note}" if note else "")
    cards = [({"uuid": str(uuid.uuid4()), "summary": _short(summary), "indicator": "info", "detail": detail,
               "source": {"label": label, "url": patient_url, "topic": topic}, "links": links},
              IssuedMeta(CdsCardKind.RANKING, top[0].atc if top else ""))]
    for drug in top:
        rules_url = f"{base_url}{reverse('rules')}?{urlencode({'drug': drug.atc})}"
        source = {"label": label, "url": rules_url, "topic": topic}
        cards += [(card, IssuedMeta(CdsCardKind.FLAG, drug.atc)) for card in _flag_cards(drug, source, links)]
    return cards


# Card per kind of flag: contraindications are critical; the licence, checks before starting and warnings are
# warnings (CDS Hooks 2.0 indicator values).
_CARD_KINDS = (
    (("contraindicated",), "critical", "contraindicated"),
    (("not_licensed",), "warning", "not licensed"),
    (("check_before_starting",), "warning", "check before starting"),
    (("not_recommended", "caution"), "warning", "caution"),
)


def _outside(drug: RankedDrug) -> str:
    """' (not licensed)' or ' (contraindicated)' for a top drug that is not a drug to start."""
    severities = {f["severity"] for f in drug.flags}
    for severity, words in (("contraindicated", "contraindicated"), ("not_licensed", "not licensed")):
        if severity in severities:
            return f" ({words})"
    return ""


def _flag_cards(drug: RankedDrug, source: dict, links: list[dict]) -> list[dict]:
    """One card per kind of flag of a top drug, each flag with its source in the detail."""
    cards = []
    for severities, indicator, kind in _CARD_KINDS:
        flags = [f for f in drug.flags if f["severity"] in severities]
        if not flags:
            continue
        count = f" ({len(flags)})" if len(flags) > 1 else ""
        lines = [f"**{kind.capitalize()}: {drug.name}.**", ""]
        lines += [f"- {f['message']}  \n  _Source: {f['source']}_" for f in flags]
        cards.append({"uuid": str(uuid.uuid4()), "summary": _short(f"{drug.name}: {kind}{count} – {flags[0]['message']}"),
                      "indicator": indicator, "detail": "\n".join(lines), "source": source, "links": links})
    return cards


def _detail(ranking: Ranking, top: list[RankedDrug]) -> str:
    mv = ranking.model_version
    # The outcome is the uploaded manifest's words: shown literally, never as markdown.
    outcome = markdown_escape((mv.manifest or {}).get("outcome", "response"))
    lines = [f"**Modelled chance of response** ({outcome})", ""]
    for rank, drug in enumerate(top, start=1):
        kinds = [kind for severities, _, kind in _CARD_KINDS if any(f["severity"] in severities for f in drug.flags)]
        marks = f" · {', '.join(kinds)}" if kinds else ""
        lines.append(f"{rank}. **{drug.name}** ({drug.class_label}): {drug.probability:.0%}{marks}")
        lines += [f"   - {reason}" for reason in drug.reasons]
    basis = f"visit of {ranking.visit.visit_date.isoformat()}"
    if ranking.live:
        if ranking.overlaid:
            labels = ", ".join(dictionary.label(name) for name in ranking.overlaid)
            basis += f", updated with observations up to {ranking.as_of.isoformat()} ({labels}); not stored"
        else:
            basis += "; scored now, not yet stored"
    lines += ["", f"Based on the {basis}. Model {mv.disease} v{mv.version}.", "",
              f"_{settings.SYNTHETIC_NOTICE}._"]
    return "\n".join(lines)


def _short(text: str, limit: int = 140) -> str:
    # CDS Hooks: the summary SHOULD be under 140 characters.
    return text if len(text) < limit else text[:limit - 2] + "…"
