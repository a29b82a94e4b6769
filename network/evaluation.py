"""Federated evaluation at the hub: ask for one, and pool the sites' binned counts into figures.

Pooled figures come from the summed cells of every site that answered (network.metrics); per-site figures
only where that site's own cells allow; a stratum no site could release is reported as suppressed.
"""

from __future__ import annotations

from clinnova.audit import Actor, audit_record
from network.metrics import stratum_metrics
from network.models import FederatedRun, RunKind
from recommendations.models import ModelStatus, ModelVersion


class EvaluationError(ValueError):
    pass


def evaluation_combine(payloads: dict[str, dict]) -> dict:
    """Pooled metrics per stratum, per-site overall metrics and outcome coverage, from the sites' replies."""
    names = sorted({name for p in payloads.values() for name in p.get("strata", {})})
    strata = {}
    for name in names:
        summaries = [p["strata"].get(name) for p in payloads.values()]
        strata[name] = stratum_metrics(summaries) or {"suppressed": True}
    per_site = {site: stratum_metrics([p["strata"].get("overall")]) or {"suppressed": True}
                for site, p in sorted(payloads.items())}
    coverage = {site: p.get("coverage", {}) for site, p in sorted(payloads.items())}
    return {"strata": strata, "per_site": per_site, "coverage": coverage}


def evaluation_request(*, version: ModelVersion, actor: Actor) -> FederatedRun:
    """Record the model admin's request to evaluate a version (active or candidate) on the sites' outcomes."""
    if version.status not in (ModelStatus.ACTIVE, ModelStatus.VALIDATED, ModelStatus.RETIRED):
        raise EvaluationError(f"{version} cannot be evaluated: only validated, active or retired versions can")
    run = FederatedRun.objects.create(kind=RunKind.EVALUATION, model_version=version, requested_by=actor.user)
    audit_record(actor=actor, action="federated_evaluation_request", obj=run,
                 detail={"model_version": version.pk, "disease": version.disease, "version": version.version})
    return run


def evaluations_of(version: ModelVersion) -> list[FederatedRun]:
    return list(FederatedRun.objects.filter(kind=RunKind.EVALUATION, model_version=version).order_by("-created_at"))
