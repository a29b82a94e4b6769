"""The model card's button at the hub: evaluate this version on every site's outcomes (a job, audited)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from clinnova.access import MODEL_ADMIN, has_role
from clinnova.audit import Actor
from network.evaluation import EvaluationError, evaluation_request
from network.hub import is_hub
from recommendations.models import ModelVersion


@login_required
@require_POST
def evaluation_start(request, pk):
    if not has_role(request.user, MODEL_ADMIN):
        raise PermissionDenied("Only model admins ask for federated evaluations.")
    if not is_hub():
        raise PermissionDenied("Federated evaluations are asked for at the network hub, which asks every site.")
    version = get_object_or_404(ModelVersion.objects.defer("package"), pk=pk)
    try:
        run = evaluation_request(version=version, actor=Actor.from_request(request))
    except EvaluationError as exc:
        messages.error(request, f"No evaluation started: {exc}")
    else:
        messages.success(request, f"Evaluation {run.pk} of version {version.version} is queued; each site computes "
                                  "its binned counts on its own node. Reload this card to follow it.")
    return redirect("models:detail", pk=pk)
