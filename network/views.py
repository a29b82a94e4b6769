"""The network's pages: a federated evaluation, and monitoring (a site's own, or the network's at the hub)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from clinnova.access import MODEL_ADMIN, has_role
from clinnova.audit import Actor
from network.distribution import DistributionError, distribution_request, offer_accept, offer_policy_set, offer_refuse
from network.hub import is_hub
from network.models import FederatedRun, ModelOffer, RunKind
from network.pages import evaluation_page, monitoring_page, offers_page, training_page
from network.site import participation
from network.tasks import federated_run
from network.training_requests import TrainingRequestError, training_cancel, training_request
from patients.dictionary import Disease
from recommendations.models import ModelVersion
from recommendations.registry import RegistryError


def _require_model_admin(user):
    if not has_role(user, MODEL_ADMIN):
        raise PermissionDenied("Only model admins read federated evaluations and monitoring.")


@login_required
def evaluation_detail(request, pk):
    _require_model_admin(request.user)
    run = get_object_or_404(FederatedRun.objects.select_related("model_version", "requested_by"),
                            pk=pk, kind=RunKind.EVALUATION)
    return render(request, "network/evaluation.html", {"e": evaluation_page(run)})


@login_required
def monitoring(request):
    _require_model_admin(request.user)
    scope = "network" if is_hub() else (settings.CLINNOVA_SITE or "all")
    context = monitoring_page(scope=scope)
    context["participation"] = None if is_hub() else participation()
    return render(request, "network/monitoring.html", context)


# --- federated training at the hub ------------------------------------------------


@login_required
@require_POST
def training_start(request):
    """The model list's button: train one model for a disease across the site nodes (a job; audited)."""
    _require_model_admin(request.user)
    if not is_hub():
        raise PermissionDenied("Federated training is started at the network hub.")
    try:
        run = training_request(disease=request.POST.get("disease", ""), actor=Actor.from_request(request))
    except TrainingRequestError as exc:
        messages.error(request, f"Federated training not started: {exc}")
        return redirect("models:list")
    messages.success(request, f"Federated training run {run.pk} of {Disease(run.config['disease']).label} is "
                              "submitted to the site nodes; this page follows it round by round.")
    return redirect("network:training", pk=run.pk)


@login_required
def training_detail(request, pk):
    _require_model_admin(request.user)
    run = get_object_or_404(FederatedRun.objects.select_related("model_version", "requested_by").defer("booster"),
                            pk=pk, kind=RunKind.TRAINING)
    return render(request, "network/training.html", training_page(run))


@login_required
@require_POST
def training_cancel_view(request, pk):
    _require_model_admin(request.user)
    run = get_object_or_404(FederatedRun.objects.defer("booster"), pk=pk, kind=RunKind.TRAINING)
    if training_cancel(run=run, actor=Actor.from_request(request)):
        messages.success(request, f"Run {run.pk} is cancelled: it stops before its next round and registers nothing.")
    else:
        messages.error(request, f"Run {run.pk} is {run.get_status_display().lower()}; there is nothing to cancel.")
    return redirect("network:training", pk=pk)


@login_required
@require_POST
def distribute(request, pk):
    """The model card's button at the hub: offer the active version to the site nodes (a job; audited)."""
    _require_model_admin(request.user)
    version = get_object_or_404(ModelVersion.objects.defer("package"), pk=pk)
    try:
        run = distribution_request(version=version, actor=Actor.from_request(request))
    except DistributionError as exc:
        messages.error(request, str(exc))
    else:
        transaction.on_commit(lambda: federated_run.delay(run.pk))
        messages.success(request, f"Version {version.version} is offered to the site nodes; each site's answer "
                                  "appears on this page.")
    return redirect("models:detail", pk=pk)


# --- a site node's offers ----------------------------------------------------------


@login_required
def offers(request):
    _require_model_admin(request.user)
    if is_hub():
        raise PermissionDenied("Model offers are decided at each site node.")
    return render(request, "network/offers.html", offers_page())


@login_required
@require_POST
def offers_policy(request):
    _require_model_admin(request.user)
    try:
        offer_policy_set(policy=request.POST.get("model_offers", ""), actor=Actor.from_request(request))
    except DistributionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The site's answer to offered models is saved.")
    return redirect("network:offers")


@login_required
@require_POST
def offer_decide(request, pk):
    """Accept (register here and activate, with a reason when it is worse) or refuse an offered version."""
    _require_model_admin(request.user)
    offer = get_object_or_404(ModelOffer.objects.defer("package"), pk=pk)
    actor = Actor.from_request(request)
    reason = request.POST.get("reason", "")[:2000]
    try:
        if request.POST.get("decision") == "accept":
            offer = offer_accept(offer=ModelOffer.objects.get(pk=pk), actor=actor, reason=reason)
        elif request.POST.get("decision") == "refuse":
            offer = offer_refuse(offer=offer, actor=actor, reason=reason)
        else:
            raise DistributionError("decision: must be 'accept' or 'refuse'")
    except (DistributionError, RegistryError) as exc:
        return render(request, "network/offers.html", {**offers_page(), "error": str(exc), "error_offer": pk},
                      status=400)
    messages.success(request, f"{offer}: {offer.get_status_display().lower()}"
                              + (f" ({offer.reason})" if offer.reason else "") + "; the hub learns it at its next offer.")
    return redirect("network:offers")
