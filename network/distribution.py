"""Distribution of an activated model version from the hub to the site nodes, each of which may refuse it.

The hub sends the active version's package (a DISTRIBUTION run over Flower, every message logged). A site
records the offer (network.models.ModelOffer) and decides by its own admin's setting: review (a site admin
accepts or refuses it on the node's offers page), accept (automatically, when it passes the node's own
validation and is not worse than the site's active version), or refuse. An accepted version is registered at
the site through the upload's validation, keeping the hub's version number, and activated through the normal
activation (audited, re-scoring): the site's recommendations then name it. The site answers every later
distribution with its decision, so the hub records refusals and acceptances made since.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from clinnova.audit import Actor, audit_record
from network.models import FederatedRun, ModelOffer, OfferPolicy, OfferStatus, RunKind
from network.site import participation
from recommendations.models import ModelStatus, ModelVersion
from recommendations.package import package_read, package_sha256
from recommendations.registry import ReasonRequired, RegistryError, model_version_activate, model_version_upload

AUTOMATIC = Actor(client="network model offer (site setting: accept)")


class DistributionError(ValueError):
    pass


# --- the hub ----------------------------------------------------------------------


def distribution_request(*, version: ModelVersion, actor: Actor) -> FederatedRun:
    """Record the model admin's request to send the hub's active version to the sites (audited)."""
    if version.status != ModelStatus.ACTIVE:
        raise DistributionError(f"{version} is not active at the hub: only the active version is distributed")
    run = FederatedRun.objects.create(kind=RunKind.DISTRIBUTION, model_version=version, requested_by=actor.user)
    audit_record(actor=actor, action="model_distribute", obj=run,
                 detail={"model_version": version.pk, "disease": version.disease, "version": version.version})
    return run


def distribution_combine(payloads: dict[str, dict]) -> dict:
    """Each answering site's decision about the version, as it reported it."""
    return {"decisions": {site: {k: p.get(k) for k in ("status", "reason", "local_version", "decided_at")}
                          for site, p in sorted(payloads.items())}}


def distributions_of(version: ModelVersion) -> dict[str, dict]:
    """The latest decision each site reported about this version (a later distribution supersedes)."""
    latest: dict[str, dict] = {}
    for run in FederatedRun.objects.filter(kind=RunKind.DISTRIBUTION, model_version=version,
                                           status="done").order_by("finished_at"):
        for site, decision in (run.result or {}).get("decisions", {}).items():
            latest[site] = {**decision, "run": run.pk, "reported_at": run.finished_at}
    return latest


# --- a site node ----------------------------------------------------------------------


def _reply(offer: ModelOffer, site_code: str) -> dict:
    return {"site": site_code, "status": offer.status, "reason": offer.reason,
            "local_version": offer.local_version.version if offer.local_version_id else None,
            "decided_at": offer.decided_at.isoformat() if offer.decided_at else None}


def offer_receive(*, package: bytes, disease: str, hub_version: int, site_code: str) -> dict:
    """Record the hub's offer (once per package) and decide by the site's setting; the reply names the decision."""
    sha = package_sha256(package)
    offer = ModelOffer.objects.filter(sha256=sha).first()
    if offer is None:
        # The manifest only: the booster is parsed by this node's own validation, in its sandbox, on acceptance.
        manifest, _, _ = package_read(package, max_bytes=len(package) + 1)
        if manifest.get("disease") != disease:
            raise DistributionError(f"the package is for {manifest.get('disease')}, not {disease}")
        offer = ModelOffer.objects.create(disease=disease, hub_version=hub_version, sha256=sha, package=package,
                                          manifest=manifest)
        audit_record(actor=Actor(client="network hub"), action="model_offer_receive", obj=offer,
                     detail={"disease": disease, "hub_version": hub_version, "sha256": sha})
    if offer.status == OfferStatus.OFFERED:
        policy = participation().model_offers
        if policy == OfferPolicy.REFUSE:
            offer_refuse(offer=offer, actor=Actor(client="network model offer (site setting: refuse)"),
                         reason="this site refuses every model the hub offers (site setting)")
        elif policy == OfferPolicy.ACCEPT:
            try:
                offer_accept(offer=offer, actor=AUTOMATIC)
            except ReasonRequired as exc:
                # Worse than the site's own active version: that takes a site admin's reason, never a machine's.
                ModelOffer.objects.filter(pk=offer.pk).update(reason=f"awaiting review: {exc}")
        offer.refresh_from_db()
    return _reply(offer, site_code)


def offer_accept(*, offer: ModelOffer, actor: Actor, reason: str = "") -> ModelOffer:
    """Register the offered package here (validation, the hub's number) and activate it (audited, re-scored).

    A package that fails this node's validation is refused with the reason; one worse than the site's active
    version raises ReasonRequired unless `reason` says why (as any activation).
    """
    if offer.status != OfferStatus.OFFERED:
        raise DistributionError(f"{offer} was {offer.get_status_display().lower()} already")
    version = ModelVersion.objects.filter(sha256=offer.sha256).exclude(status=ModelStatus.REJECTED).first()
    if version is None:
        try:
            version = model_version_upload(data=bytes(offer.package), actor=actor, validate_now=True,
                                           filename=f"{offer.disease}-hub-v{offer.hub_version}.zip",
                                           number=offer.hub_version)
        except RegistryError as exc:
            return offer_refuse(offer=offer, actor=actor, reason=f"not registered at this site: {exc}")
        if version.status != ModelStatus.VALIDATED:
            return offer_refuse(offer=offer, actor=actor,
                                reason=f"failed this site's validation: {version.rejection_reason}")
    if version.status != ModelStatus.ACTIVE:
        model_version_activate(version=version, actor=actor,
                               reason=reason or f"distributed by the network hub as version {offer.hub_version}")
    with transaction.atomic():
        ModelOffer.objects.filter(pk=offer.pk).update(status=OfferStatus.ACCEPTED, reason="", local_version=version,
                                                      decided_by=actor.user, decided_at=timezone.now())
        audit_record(actor=actor, action="model_offer_accept", obj=offer,
                     detail={"disease": offer.disease, "hub_version": offer.hub_version, "local_version": version.pk,
                             "activation_reason": reason})
    offer.refresh_from_db()
    return offer


def offer_refuse(*, offer: ModelOffer, actor: Actor, reason: str) -> ModelOffer:
    """Refuse the offered version with a reason the hub will record; the site's active version is unchanged."""
    reason = (reason or "").strip()[:2000]
    if not reason:
        raise DistributionError("say why the site refuses this version: the hub records the reason")
    if offer.status != OfferStatus.OFFERED:
        raise DistributionError(f"{offer} was {offer.get_status_display().lower()} already")
    with transaction.atomic():
        ModelOffer.objects.filter(pk=offer.pk).update(status=OfferStatus.REFUSED, reason=reason,
                                                      decided_by=actor.user, decided_at=timezone.now())
        audit_record(actor=actor, action="model_offer_refuse", obj=offer,
                     detail={"disease": offer.disease, "hub_version": offer.hub_version, "reason": reason})
    offer.refresh_from_db()
    return offer


def offer_policy_set(*, policy: str, actor: Actor) -> None:
    if policy not in OfferPolicy.values:
        raise DistributionError(f"model_offers: {policy!r} is not one of {', '.join(OfferPolicy.values)}")
    switch = participation()
    old = switch.model_offers
    switch.model_offers, switch.changed_by, switch.changed_at = policy, actor.user, timezone.now()
    switch.save(update_fields=["model_offers", "changed_by", "changed_at"])
    audit_record(actor=actor, action="model_offer_policy", obj=switch, detail={"from": old, "to": policy})
