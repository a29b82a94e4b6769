"""Model admin pages: versions per disease, upload with its validation report, model cards, activation."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.module_loading import import_string
from django.views.decorators.http import require_http_methods

from clinnova.access import CLINICIAN, MODEL_ADMIN, has_role
from clinnova.audit import Actor
from recommendations.model_pages import activation_preview, model_version_page, model_versions_by_disease
from recommendations.models import ModelStatus, ModelVersion
from recommendations.registry import ReasonRequired, RegistryError, model_version_activate, model_version_upload
from recommendations.rules_catalogue import rules_page_context


def _require_model_admin(user):
    if not has_role(user, MODEL_ADMIN):
        raise PermissionDenied("Only model admins manage model versions.")


def _upload_page(request, error: str = "", status: int = 200):
    return render(request, "models/upload.html",
                  {"error": error, "max_mb": settings.MODEL_UPLOAD_MAX_BYTES // (1024 * 1024)}, status=status)


def _version_or_404(pk) -> ModelVersion:
    return get_object_or_404(ModelVersion.objects.defer("package").select_related("uploaded_by", "activated_by"),
                             pk=pk)


@login_required
def model_list(request):
    _require_model_admin(request.user)
    # Sections of the layers above (the network's federated training), named in settings.
    sections = [import_string(path)() for path in settings.MODEL_LIST_SECTIONS]
    return render(request, "models/list.html", {**model_versions_by_disease(), "sections": sections})


@login_required
@require_http_methods(["GET", "POST"])
def model_upload(request):
    _require_model_admin(request.user)
    if request.method == "GET":
        return _upload_page(request)
    upload = request.FILES.get("package")
    if upload is None:
        return _upload_page(request, "Choose a model package (.zip) to upload.", status=400)
    if upload.size > settings.MODEL_UPLOAD_MAX_BYTES:
        return _upload_page(request, f"The file is {upload.size // 1024} KB; packages may be at most "
                                     f"{settings.MODEL_UPLOAD_MAX_BYTES // (1024 * 1024)} MB.", status=400)
    version = model_version_upload(data=upload.read(), filename=upload.name, actor=Actor.from_request(request))
    if version.status == ModelStatus.REJECTED:
        messages.error(request, f"{upload.name} was rejected and cannot be activated: {version.rejection_reason}")
    elif version.status == ModelStatus.VALIDATING:
        messages.info(request, f"{upload.name} is being validated; this page shows each check as it ends.")
    else:
        messages.success(request, f"{upload.name} passed every check and is registered as "
                                  f"{version.get_disease_display()} version {version.version}. "
                                  "Read its model card before activating it.")
    # Redirect, so reloading the report does not upload the package again.
    return redirect("models:detail", pk=version.pk)


@login_required
def model_detail(request, pk):
    _require_model_admin(request.user)
    version = _version_or_404(pk)
    # Sections contributed by the layers above (the network's federated evaluation), named in settings so this
    # app does not import them.
    sections = [import_string(path)(version) for path in settings.MODEL_CARD_SECTIONS]
    return render(request, "models/detail.html", {**model_version_page(version), "sections": sections})


@login_required
@require_http_methods(["GET", "POST"])
def model_activate(request, pk):
    """GET asks for confirmation, saying what will be re-scored; POST activates (or rolls back)."""
    _require_model_admin(request.user)
    version = _version_or_404(pk)
    if version.status in (ModelStatus.REJECTED, ModelStatus.ACTIVE):
        messages.error(request, f"Version {version.version} is {version.get_status_display().lower()}; "
                                "there is nothing to activate.")
        return redirect("models:detail", pk=pk)
    if request.method == "GET":
        return render(request, "models/activate.html", activation_preview(version))
    reason = request.POST.get("reason", "")[:2000]
    try:
        run = model_version_activate(version=version, actor=Actor.from_request(request), reason=reason)
    except ReasonRequired as exc:
        return render(request, "models/activate.html", {**activation_preview(version), "reason_error": str(exc),
                                                       "reason": reason}, status=400)
    except RegistryError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Version {version.version} is active for {version.get_disease_display()}; "
                                  f"re-scoring the latest visit of {run.total} patient{'s' if run.total != 1 else ''}.")
    return redirect("models:detail", pk=pk)


@login_required
def rules_list(request):
    """The safety rules and licences, drug × rule × source, for the clinicians and model admins who rely on them."""
    if not (has_role(request.user, CLINICIAN) or has_role(request.user, MODEL_ADMIN)):
        raise PermissionDenied("The rules page is for clinicians and model admins.")
    return render(request, "rules/list.html", rules_page_context(drug=request.GET.get("drug", "")[:8]))
