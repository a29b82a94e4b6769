"""Model admin pages: versions per disease, upload with its validation report, model cards, activation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from clinnova.access import MODEL_ADMIN, has_role
from clinnova.audit import Actor
from django.conf import settings
from patients.dictionary import Disease
from recommendations.models import ModelStatus, ModelVersion, RescoreRun
from recommendations.registry import RegistryError, latest_visits, model_version_activate, model_version_upload


def _require_model_admin(user):
    if not has_role(user, MODEL_ADMIN):
        raise PermissionDenied("Only model admins manage model versions.")


@login_required
def model_list(request):
    _require_model_admin(request.user)
    versions = ModelVersion.objects.defer("package").select_related("uploaded_by", "activated_by")
    groups = [(label, [v for v in versions if v.disease == value]) for value, label in Disease.choices]
    rejected_unreadable = [v for v in versions if not v.disease]
    return render(request, "models/list.html", {"groups": groups, "unreadable": rejected_unreadable})


@login_required
@require_http_methods(["GET", "POST"])
def model_upload(request):
    _require_model_admin(request.user)
    if request.method == "POST":
        upload = request.FILES.get("package")
        if upload is None:
            return render(request, "models/upload.html", {"error": "Choose a model package (.zip) to upload."})
        if upload.size > settings.MODEL_UPLOAD_MAX_BYTES:
            return render(request, "models/upload.html", {
                "error": f"The file is {upload.size // 1024} KB; packages may be at most "
                         f"{settings.MODEL_UPLOAD_MAX_BYTES // (1024 * 1024)} MB."})
        version = model_version_upload(data=upload.read(), filename=upload.name, actor=Actor.from_request(request))
        return redirect("models:detail", pk=version.pk)
    return render(request, "models/upload.html", {})


@login_required
def model_detail(request, pk):
    _require_model_admin(request.user)
    version = get_object_or_404(ModelVersion.objects.defer("package"), pk=pk)
    active = ModelVersion.objects.defer("package").filter(disease=version.disease, status=ModelStatus.ACTIVE).first()
    run = RescoreRun.objects.filter(model_version=version).order_by("-created_at").first()
    return render(request, "models/detail.html", {
        "v": version, "m": version.manifest, "active": active if active and active.pk != version.pk else None,
        "rescore": run.progress() if run else None, "n_latest": len(latest_visits(version.disease)) if version.disease else 0,
    })


@login_required
@require_http_methods(["POST"])
def model_activate(request, pk):
    _require_model_admin(request.user)
    version = get_object_or_404(ModelVersion.objects.defer("package"), pk=pk)
    try:
        run = model_version_activate(version=version, actor=Actor.from_request(request))
        messages.success(request, f"Version {version.version} is active; re-scoring {run.total} patients.")
    except RegistryError as exc:
        messages.error(request, str(exc))
    return redirect("models:detail", pk=pk)
