"""The network's pages: a federated evaluation, and monitoring (a site's own, or the network's at the hub)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render

from clinnova.access import MODEL_ADMIN, has_role
from network.hub import is_hub
from network.models import FederatedRun, RunKind
from network.pages import evaluation_page, monitoring_page
from network.site import participation


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
