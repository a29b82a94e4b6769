"""What the network's pages show: a federated evaluation, the model card's section, and monitoring.

Selectors only (reads); the views in network/views.py render them.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Sum

from network.charts import monthly_chart, reliability_diagram
from network.metrics import oe_ratio
from network.models import (
    ANSWERED,
    FederatedRun,
    MessageLog,
    ModelOffer,
    MonitoringAlert,
    MonitoringSnapshot,
    OfferPolicy,
    RunKind,
)
from patients.dictionary import Disease
from patients.drugs import BY_ATC
from recommendations.models import ModelVersion


def _stratum_label(name: str) -> str:
    kind, _, value = name.partition(":")
    if kind == "drug":
        drug = BY_ATC.get(value)
        return f"{drug.name} ({value})" if drug else value
    if kind == "age":
        return f"Age {value}"
    if kind == "sex":
        return value.capitalize()
    return {"overall": "Overall", "followed": "Top suggestion followed", "overridden": "Overridden"}.get(name, name)


def _order(name: str) -> tuple:
    return ({"overall": 0, "followed": 1, "overridden": 2}.get(name, 3), name)


def evaluation_page(run: FederatedRun) -> dict:
    result = run.result or {}
    strata = result.get("strata", {})
    rows = [{"name": name, "label": _stratum_label(name), **figures}
            for name, figures in sorted(strata.items(), key=lambda kv: _order(kv[0]))]
    overall = strata.get("overall") or {}
    version = run.model_version
    messages = (MessageLog.objects.filter(run=run).values("direction", "site_code")
                .annotate(n=Count("pk"), bytes=Sum("size_bytes")).order_by("direction", "site_code"))
    return {
        "run": run,
        "version": version,
        "rows": rows,
        "overall": overall,
        "diagram": reliability_diagram(overall.get("reliability") or [],
                                       title=f"Reliability diagram of version {version.version if version else '?'}, "
                                             "all sites pooled"),
        "per_site": sorted((result.get("per_site") or {}).items()),
        "coverage": sorted((result.get("coverage") or {}).items()),
        "sites": [{"code": code, "answered": state == ANSWERED, "state": state}
                  for code, state in sorted((run.sites or {}).items())],
        "messages": list(messages),
        "bytes_total": sum(m["bytes"] or 0 for m in messages),
        "messages_total": sum(m["n"] for m in messages),
        "synthetic_notice": settings.SYNTHETIC_NOTICE,
    }


def model_card_federated(version: ModelVersion) -> dict:
    """The model card's federated-evaluation section: the latest finished run in full, earlier ones listed."""
    runs = list(FederatedRun.objects.filter(kind=RunKind.EVALUATION, model_version=version)
                .order_by("-created_at")[:10])
    latest = next((r for r in runs if r.status == "done"), None)
    return {"template": "network/_model_card_section.html", "runs": runs, "version": version,
            "latest": evaluation_page(latest) if latest else None, "request": evaluation_request_state(version, runs)}


# What the model card shows of the evaluation job: "queued" is a pending run not yet started by the hub's ServerApp.
JOB_STATE = {"pending": "queued", "running": "running", "done": "done", "failed": "failed", "cancelled": "cancelled"}


def evaluation_request_state(version: ModelVersion, runs: list[FederatedRun]) -> dict:
    """The model card's evaluation button and the state of the latest request (a hub's model admin only)."""
    from network.evaluation import EVALUABLE  # noqa: PLC0415 (only the button needs them)
    from network.hub import is_hub  # noqa: PLC0415

    current = runs[0] if runs else None
    busy = current if current and current.status in ("pending", "running") else None
    return {"template": "network/_evaluation_request.html", "is_hub": is_hub(), "busy": busy,
            "evaluable": version.status in EVALUABLE,
            "current": current, "state": JOB_STATE.get(current.status, current.status) if current else "",
            "missing": current.missing if current and current.status == "done" else {}}


def _share(part, whole):
    return part / whole if part is not None and whole else None


def _monitoring_model(key: str, model: dict, *, scope: str) -> dict:
    months = sorted(model["months"])
    rows = []
    for month in months:
        row = model["months"][month]
        known = row.get("outcomes_known")
        cil = oe_ratio(row.get("observed"), row.get("expected"), known)
        # Responses are decisions plus CDS feedback (network.monitoring); a summary from before it, decisions only.
        responses = row.get("responses", row.get("decisions"))
        rows.append({"month": month, **row, "acceptance": _share(row.get("followed"), responses),
                     "override_rate": _share(row.get("overridden"), responses),
                     "coverage": _share(known, row.get("decisions")), "oe": cil,
                     "observed_share": _share(row.get("observed"), known),
                     "expected_share": _share(row.get("expected"), known),
                     "psi_max": max(row.get("psi", {}).values(), default=None)})
        rows[-1]["acceptance_pct"] = f"{rows[-1]['acceptance']:.0%}" if rows[-1]["acceptance"] is not None else ""
    label = f"{model['disease'].replace('_', ' ').capitalize()} v{model['version']}"
    response = monthly_chart(
        months, {"Observed response": ("observed", [r["observed_share"] for r in rows]),
                 "Predicted response": ("expected", [r["expected_share"] for r in rows])},
        title=f"{label}: observed and predicted response among known outcomes, {scope}",
        desc="Share of patients with a known outcome who responded, and the mean predicted probability; months "
             "whose counts were withheld (fewer than 5) are gaps.", y_label="Share responding", y_max=1.0)
    oe = monthly_chart(
        months, {"Observed/expected": ("observed", [(r["oe"]["value"], r["oe"]["low"], r["oe"]["high"])
                                                    if r["oe"] else None for r in rows])},
        title=f"{label}: calibration-in-the-large, {scope}", desc="Observed over expected responders with its "
        "95% interval; 1 is perfect calibration.", y_label="Observed / expected", threshold=1.0,
        threshold_label="O/E = 1")
    psi = monthly_chart(
        months, {name: ("psi", [r.get("psi", {}).get(name) for r in rows]) for name in model["main_features"][:1]}
        | {"Highest PSI of the main features": ("psi", [r["psi_max"] for r in rows])},
        title=f"{label}: input drift, {scope}", desc="Population stability index of the model's main features "
        "against its training cohort; above 0.25 is a major shift.", y_label="PSI", threshold=0.25,
        threshold_label="PSI 0.25")
    acceptance = monthly_chart(
        months, {"Top suggestion followed": ("accepted", [r["acceptance"] for r in rows]),
                 "Outcome known": ("observed", [r["coverage"] for r in rows])},
        title=f"{label}: acceptance and outcome coverage, {scope}",
        desc="Share of responses (decisions, and CDS feedback on a ranking card without a decision) that followed "
        "the top suggestion, and share of decisions whose outcome is known.", y_label="Share", y_max=1.0)
    return {"key": key, "label": label, "sites": model.get("sites"), "rows": rows,
            "charts": [c for c in (response, oe, psi, acceptance) if c],
            "main_features": model["main_features"]}


def monitoring_page(*, scope: str) -> dict:
    snapshot = MonitoringSnapshot.objects.filter(scope=scope).order_by("-computed_at").first()
    models = [_monitoring_model(key, model, scope="the network" if scope == "network" else f"site {scope}")
              for key, model in sorted((snapshot.summary if snapshot else {}).get("models", {}).items())]
    return {"scope": scope, "snapshot": snapshot, "models": models,
            "alerts": list(MonitoringAlert.objects.filter(scope=scope).order_by("-raised_at")[:50]),
            "synthetic_notice": settings.SYNTHETIC_NOTICE}


# --- federated training and distribution ------------------------------------------------


def training_page(run: FederatedRun) -> dict:
    """A training run as the hub's model admin follows it: progress, sites, what crossed, the version it made."""
    result = run.result or {}
    messages = (MessageLog.objects.filter(run=run).values("direction", "site_code")
                .annotate(n=Count("pk"), bytes=Sum("size_bytes")).order_by("direction", "site_code"))
    active = run.status in ("pending", "running")
    return {
        "run": run, "cfg": run.config, "result": result, "active": active,
        "disease_label": dict(Disease.choices).get(run.config.get("disease"), run.config.get("disease")),
        "sites": [{"code": code, "answered": state == ANSWERED, "state": state}
                  for code, state in sorted((run.sites or {}).items())],
        "messages": list(messages),
        "bytes_total": sum(m["bytes"] or 0 for m in messages),
        "synthetic_notice": settings.SYNTHETIC_NOTICE,
    }


def model_list_training() -> dict:
    """The model list's section at the hub: a button per disease, and the latest training runs."""
    from network.hub import is_hub  # noqa: PLC0415 (hub depends on nothing here; kept local for clarity)

    runs = list(FederatedRun.objects.filter(kind=RunKind.TRAINING).defer("booster")
                .select_related("model_version").order_by("-created_at")[:10])
    return {"template": "network/_training_section.html", "is_hub": is_hub(), "runs": runs,
            "diseases": Disease.choices,
            "busy": {r.config.get("disease") for r in runs if r.status in ("pending", "running")}}


def model_card_distribution(version: ModelVersion) -> dict:
    """The model card's distribution section: at the hub, each site's answer; at a site, where it came from."""
    from network.distribution import distributions_of  # noqa: PLC0415
    from network.hub import is_hub  # noqa: PLC0415

    return {"template": "network/_distribution_section.html", "version": version, "is_hub": is_hub(),
            "decisions": sorted(distributions_of(version).items()) if is_hub() else [],
            "runs": list(FederatedRun.objects.filter(kind=RunKind.DISTRIBUTION, model_version=version)
                         .order_by("-created_at")[:5]),
            "offer": None if is_hub() else ModelOffer.objects.filter(local_version=version).defer("package").first()}


def offers_page() -> dict:
    from network.site import participation  # noqa: PLC0415

    return {"offers": list(ModelOffer.objects.defer("package").select_related("decided_by", "local_version")),
            "participation": participation(), "policies": OfferPolicy.choices,
            "synthetic_notice": settings.SYNTHETIC_NOTICE}
