"""The patient-view service: which patient the EHR means, and the cards Clinnova answers with."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db.models import Q
from rest_framework import exceptions

from clinnova.audit import Actor, audit_record
from clinnova.text import markdown_escape
from doors.cds.ranking import EXPLAINED, RankedDrug, Ranking, ranking_for
from patients import dictionary
from patients.dictionary import Disease
from patients.models import Patient, Site
from recommendations.models import CdsClient

SERVICE_ID = "clinnova-therapy-ranking"
HOOK = "patient-view"
TOP = EXPLAINED
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
        "observations": "Observation?patient={{context.patientId}}&code=" + _LOINC + "&_sort=-date",
    },
    "usageRequirements": "Register the client's public JWK Set with `manage.py register_cds_client`; the client "
                         "sees the patients of its own site.",
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


def patient_resolve(site: Site, patient_id: str) -> Patient | None:
    """The site's patient with this identifier value (any system) or Clinnova id; None if none or ambiguous."""
    if len(patient_id) > 100 or "\x00" in patient_id:  # no identifier is that long; PostgreSQL refuses NUL
        return None
    match = Q(identifiers__value=patient_id)
    try:
        match |= Q(pk=uuid.UUID(patient_id))
    except ValueError:
        pass
    found = list(Patient.objects.filter(match, site=site).distinct()[:2])
    return found[0] if len(found) == 1 else None


def patient_view_answer(*, client: CdsClient, body: Any, actor: Actor) -> dict:
    """The cards for a patient-view call: {"cards": []} when the patient or a ranking is not known."""
    patient_id, prefetch = request_check(body)
    patient = patient_resolve(client.site, patient_id)
    if patient is None:
        audit_record(actor=actor, action="access_refused", site_code=client.site.code,
                     detail={"reason": "patient not found at the client's site", "via": "cds-hooks"})
        return {"cards": []}
    ranking = ranking_for(patient, prefetched=prefetch.get("observations"))
    if ranking is None:
        return {"cards": []}
    audit_record(actor=actor, action="recommendation_read", obj=ranking.visit, patient_id=patient.pk,
                 site_code=client.site.code,
                 detail={"via": "cds-hooks", "hook_instance": body["hookInstance"][:100].replace("\x00", ""),
                         "live": ranking.live})
    return {"cards": cards_for(patient, ranking)}


def cards_for(patient: Patient, ranking: Ranking) -> list[dict]:
    """One info card with the top drugs and their reasons, then for each top drug a card per kind of flag:
    critical for contraindications, warning for the licence, checks before starting and warnings."""
    mv = ranking.model_version
    disease = Disease(mv.disease).label
    source = {
        "label": f"Clinnova · {disease} model v{mv.version} · synthetic training data",
        "url": settings.SITE_URL + mv.get_absolute_url(),
        "topic": {"system": "urn:clinnova:cds", "code": "therapy-ranking", "display": "Therapy ranking"},
    }
    links = [{"label": "Open the patient in Clinnova", "url": settings.SITE_URL + patient.get_absolute_url(),
              "type": "absolute"}]
    top = ranking.drugs[:TOP]
    summary = "Clinnova: " + ("not enough data to rank; " if not ranking.rankable else "") + ", ".join(
        f"{d.name} {d.probability:.0%}{_interval(d)}{' top' if d.top_suggestion else ''}{_outside(d)}" for d in top)
    cards = [{"uuid": str(uuid.uuid4()), "summary": _short(summary), "indicator": "info",
              "detail": _detail(ranking, top), "source": source, "links": links}]
    for drug in top:
        cards += _flag_cards(drug, source, links)
    return cards


# Card per kind of flag: contraindications are critical; the licence, checks before starting and warnings are
# warnings (CDS Hooks 2.0 indicator values).
_CARD_KINDS = (
    (("contraindicated",), "critical", "contraindicated"),
    (("not_licensed",), "warning", "not licensed"),
    (("check_before_starting",), "warning", "check before starting"),
    (("not_recommended", "caution"), "warning", "caution"),
)


def _interval(drug: RankedDrug) -> str:
    """' (38–45 %)': the 90 % interval, or nothing for a model version without one."""
    return f" ({drug.interval[0] * 100:.0f}–{drug.interval[1] * 100:.0f} %)" if drug.interval else ""


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
    lines = [f"**Modelled chance of response** ({outcome})", "", "90 % interval in brackets.", ""]
    if not ranking.rankable:
        missing = ", ".join(dictionary.label(name) for name in ranking.missing_for_ranking)
        lines += [f"**Not enough data to rank — missing: {missing}.** No top suggestion; the drugs are listed by "
                  "their estimates.", ""]
    elif top and all(d.interval is None for d in top):
        lines += ["No interval for this model version: no tiers or top suggestion.", ""]
    for rank, drug in enumerate(top, start=1):
        kinds = [kind for severities, _, kind in _CARD_KINDS if any(f["severity"] in severities for f in drug.flags)]
        marks = f" · {', '.join(kinds)}" if kinds else ""
        place = " · **top suggestion**" if drug.top_suggestion else (
            f" · tier {drug.tier}" if drug.tier is not None and ranking.rankable else "")
        lines.append(f"{rank}. **{drug.name}** ({drug.class_label}): {drug.probability:.0%}{_interval(drug)}"
                     f"{place}{marks}")
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
