"""Monitoring of the active models in real use: per model version and month, at a site and for the network.

A site computes its summary from its own database (site_monitoring); the hub gets the same summaries over
Flower and adds them up (monitoring_combine). Counts of 1–4 are withheld (None) in both, so the site's page
and the network's show the same aggregates. Calibration-in-the-large is observed/expected with the interval
of network.metrics; input drift is the population stability index (PSI) of the model's five most important
features against the training cohort, PSI = Σ (a − e)·ln(a / e) over the cohort's deciles plus a
"not recorded" bin (Siddiqi N, Credit Risk Scorecards, Wiley 2006, ch. 8: < 0.1 stable, 0.1–0.25 some
shift, > 0.25 a shift to act on). A breach of the model's thresholds raises an alert, once, in the audit trail.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import Q

from clinnova.audit import SYSTEM, audit_record
from network.disclosure import MIN_CELL
from network.metrics import oe_ratio
from network.models import MonitoringAlert, MonitoringSnapshot, MonitoringThreshold
from network.site import protected
from patients.dictionary import BY_NAME
from recommendations.cohort import cohort_generate
from recommendations.models import (
    CdsCardKind,
    CdsFeedback,
    CdsFeedbackOutcome,
    Decision,
    ModelStatus,
    ModelVersion,
    Recommendation,
    RecommendationOutcome,
)
from recommendations.scoring import model_load

MAIN_FEATURES = 5
PSI_MIN_N = 20  # fewer recommendations in a month give no drift figure: PSI is noise there
REFERENCE_PATIENTS = 20_000
PSI_FLOOR = 1e-4  # an empty bin would make ln(a / e) infinite


def model_key(disease: str, version: int) -> str:
    return f"{disease}:v{version}"


@lru_cache(maxsize=8)
def _reference(disease: str, seed: int, features: tuple[str, ...]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per feature: the decile edges of the training cohort and its share per bin (deciles, then missing)."""
    cohort = cohort_generate(disease=disease, n_patients=REFERENCE_PATIENTS, seed=seed)
    out = {}
    for name in features:
        column = cohort.column(name).astype(float)
        present = column[~np.isnan(column)]
        edges = np.unique(np.quantile(present, np.linspace(0, 1, 11)[1:-1])) if len(present) else np.array([])
        out[name] = (edges, _shares(column, edges))
    return out


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    present = ~np.isnan(values)
    counts = np.bincount(np.searchsorted(edges, values[present], side="right"), minlength=len(edges) + 1)
    counts = np.append(counts, (~present).sum()).astype(float)
    return counts / max(counts.sum(), 1)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    e, a = np.maximum(expected, PSI_FLOOR), np.maximum(actual, PSI_FLOOR)
    return float(((a - e) * np.log(a / e)).sum())


def _main_features(version: ModelVersion) -> list[str]:
    model = model_load(version)
    gain = model.booster.get_score(importance_type="total_gain")
    ranked = sorted(((g, int(k[1:])) for k, g in gain.items() if k[1:].isdigit()), reverse=True)
    return [model.features[i] for _, i in ranked if i < len(model.features)][:MAIN_FEATURES]


def _month(day) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def site_monitoring(*, site_code: str | None, min_cell: int = MIN_CELL) -> dict:
    """This site's monitoring summary of every active model version, per month of visit."""
    models = {}
    for version in ModelVersion.objects.filter(status=ModelStatus.ACTIVE).defer("package"):
        models[model_key(version.disease, version.version)] = _version_summary(version, site_code, min_cell)
    return {"site": site_code or "", "min_cell": min_cell, "models": models}


def _version_summary(version: ModelVersion, site_code: str | None, min_cell: int) -> dict:
    here = Q(visit__site__code=site_code) if site_code else Q()
    months: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    features: dict[str, list[dict]] = defaultdict(list)
    for day, values in Recommendation.objects.filter(here, model_version=version).values_list(
            "visit__visit_date", "features"):
        months[_month(day)]["recommendations"] += 1
        features[_month(day)].append(values)
    reasons: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    # A deferral is no decision on the ranking yet; continuing or optimising counts as not following it.
    for day, was_top, reason in Decision.objects.filter(here, model_version=version).exclude(kind="defer").values_list(
            "visit__visit_date", "was_top", "reason"):
        m = months[_month(day)]
        m["decisions"] += 1
        m["followed" if was_top else "overridden"] += 1
        if not was_top:
            reasons[_month(day)][reason] += 1
    for day, accepted, reason in _cds_responses(version, site_code):
        m = months[_month(day)]
        m["cds_feedback"] += 1
        m["followed" if accepted else "overridden"] += 1
        if not accepted:
            reasons[_month(day)][reason] += 1
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    outcome_here = Q(recommendation__visit__site__code=site_code) if site_code else Q()
    for day, status, responded, p in RecommendationOutcome.objects.filter(outcome_here, model_version=version) \
            .values_list("start_date", "status", "responded", "probability"):
        m = months[_month(day)]
        m[f"outcomes_{status}"] += 1
        if status == "known" and p is not None:
            sums[_month(day)][0] += float(responded)
            sums[_month(day)][1] += p
    main = _main_features(version)
    seed = int((version.manifest.get("training_data") or {}).get("seed", 0))
    reference = _reference(version.disease, seed, tuple(main)) if main else {}
    out = {}
    for month in sorted(months):
        m = months[month]
        row = {key: protected(m.get(key, 0), min_cell=min_cell)
               for key in ("recommendations", "decisions", "cds_feedback", "followed", "overridden",
                           "outcomes_known", "outcomes_unknown", "outcomes_awaiting")}
        # Every clinician's response to a ranking: recorded decisions plus CDS feedback on recommendations
        # that have no decision (the denominator of acceptance and override rates).
        row["responses"] = protected(m.get("decisions", 0) + m.get("cds_feedback", 0), min_cell=min_cell)
        row["override_reasons"] = {r: protected(n, min_cell=min_cell) for r, n in sorted(reasons[month].items())}
        known = m.get("outcomes_known", 0)
        released = known >= min_cell and min_cell <= sums[month][0] <= known - min_cell
        row["observed"] = sums[month][0] if released else None
        row["expected"] = round(sums[month][1], 3) if released else None
        row["psi"] = {}
        if m.get("recommendations", 0) >= PSI_MIN_N:
            for name in main:
                edges, expected = reference[name]
                values = np.array([BY_NAME[name].encode(f.get(name)) for f in features[month]], dtype=float)
                row["psi"][name] = round(psi(expected, _shares(values, edges)), 4)
        out[month] = row
    return {"disease": version.disease, "version": version.version, "main_features": main, "months": out}


def _cds_responses(version: ModelVersion, site_code: str | None) -> list[tuple]:
    """(visit date, accepted, override reason) per recommendation answered by CDS Hooks feedback only.

    Feedback counts only on a ranking card (CdsCard → its stored recommendation → the version that made it):
    accepting it is following the top suggestion, overriding it is not. A safety-flag card's feedback answers
    the flag, not the ranking (accepting a "check before starting" card says the check is done, not which drug
    was started), and a card scored on the fly has no stored recommendation to answer; neither counts.
    One response per recommendation: a recorded decision wins over feedback, because it names the drug
    actually started, is checked against the ranking (was_top) with a reason from the project's list, and is
    what the outcome of the recommendation is derived from; feedback is the EHR's report of a click on a card.
    Of several feedback items on one recommendation's cards, the latest (outcomeTimestamp) is the response.
    """
    decided = set(Decision.objects.filter(recommendation__model_version=version).exclude(kind="defer")
                  .values_list("recommendation_id", flat=True))
    here = Q(issued_card__recommendation__visit__site__code=site_code) if site_code else Q()
    latest: dict[int, tuple] = {}
    for rec, day, outcome, code, display in CdsFeedback.objects.filter(
            here, issued_card__kind=CdsCardKind.RANKING, issued_card__recommendation__model_version=version,
    ).order_by("outcome_at", "pk").values_list("issued_card__recommendation_id",
                                               "issued_card__recommendation__visit__visit_date", "outcome",
                                               "override_code", "override_display"):
        if rec not in decided:
            accepted = outcome == CdsFeedbackOutcome.ACCEPTED
            latest[rec] = (day, accepted, "" if accepted else f"CDS: {display or code or 'no reason given'}")
    return list(latest.values())


def _add(a, b):
    return (a or 0) + (b or 0)


def monitoring_combine(payloads: dict[str, dict]) -> dict:
    """The network's summary: counts and sums added over sites (a withheld count adds nothing and is
    flagged), drift as the highest site PSI per feature."""
    models: dict[str, dict] = {}
    for site, payload in sorted(payloads.items()):
        for key, summary in payload.get("models", {}).items():
            model = models.setdefault(key, {"disease": summary["disease"], "version": summary["version"],
                                            "main_features": summary["main_features"], "months": {}, "sites": []})
            model["sites"].append(site)
            for month, row in summary["months"].items():
                net = model["months"].setdefault(month, {"psi": {}, "override_reasons": {}, "withheld": 0})
                for name, value in row.items():
                    if name == "psi":
                        for feature, v in value.items():
                            net["psi"][feature] = max(v, net["psi"].get(feature, v))
                    elif name == "override_reasons":
                        for reason, n in value.items():
                            net["override_reasons"][reason] = _add(net["override_reasons"].get(reason), n)
                    else:
                        net[name] = _add(net.get(name), value)
                        net["withheld"] += value is None and name not in ("observed", "expected")
    return {"scope": "network", "sites": sorted(payloads), "models": models}


def _threshold(disease: str, version: int) -> MonitoringThreshold:
    return (MonitoringThreshold.objects.filter(disease=disease, version=version).first()
            or MonitoringThreshold(disease=disease, version=version))


def alerts_check(*, scope: str, summary: dict) -> list[MonitoringAlert]:
    """Raise an alert (and an audit event) for each new breach of a model's drift or calibration threshold."""
    raised = []
    for model in summary.get("models", {}).values():
        limit = _threshold(model["disease"], model["version"])
        for month, row in model["months"].items():
            breaches = [("drift", feature, value, f"PSI > {limit.psi_max:g}",
                         f"Input drift of {BY_NAME[feature].label} ({scope}, {month}): PSI {value:.2f}")
                        for feature, value in row.get("psi", {}).items() if value > limit.psi_max]
            cal = oe_ratio(row.get("observed"), row.get("expected"), row.get("outcomes_known"))
            if cal and (cal["value"] < limit.oe_low or cal["value"] > limit.oe_high) and not cal["low"] <= 1 <= cal["high"]:
                breaches.append(("calibration", "", cal["value"], f"O/E outside {limit.oe_low:g}–{limit.oe_high:g}",
                                 f"Calibration ({scope}, {month}): observed/expected {cal['value']:.2f} "
                                 f"({cal['low']:.2f}–{cal['high']:.2f})"))
            for kind, subject, value, threshold, message in breaches:
                raised += _alert_raise(scope=scope, disease=model["disease"], version=model["version"], kind=kind,
                                       month=month, subject=subject, value=value, threshold=threshold, message=message)
    return raised


def _alert_raise(**fields) -> list[MonitoringAlert]:
    keys = {k: fields[k] for k in ("scope", "disease", "version", "kind", "month", "subject")}
    if MonitoringAlert.objects.filter(**keys).exists():
        return []
    try:
        with transaction.atomic():
            alert = MonitoringAlert.objects.create(**fields)
            audit_record(actor=SYSTEM, action="monitoring_alert", obj=alert, site_code=fields["scope"][:8],
                         detail={k: v for k, v in fields.items() if k != "message"})
    except IntegrityError:  # another process raised the same alert first
        return []
    return [alert]


def site_snapshot_store(*, site_code: str) -> MonitoringSnapshot:
    summary = site_monitoring(site_code=site_code)
    alerts_check(scope=site_code or "all", summary=summary)
    return MonitoringSnapshot.objects.create(scope=site_code or "all", summary=summary)


def network_snapshot_store(summary: dict) -> MonitoringSnapshot:
    alerts_check(scope="network", summary=summary)
    return MonitoringSnapshot.objects.create(scope="network", summary=summary)
