"""REST API for model admins: list, upload, inspect and activate model versions."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from clinnova.access import MODEL_ADMIN, has_role
from clinnova.audit import Actor
from patients.dictionary import Disease
from recommendations.models import ModelVersion
from recommendations.registry import ReasonRequired, RegistryError, model_version_activate, model_version_upload


class IsModelAdmin(BasePermission):
    message = "Only model admins manage model versions."

    def has_permission(self, request, view):
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated and has_role(user, MODEL_ADMIN))


def version_payload(v: ModelVersion) -> dict:
    return {
        "id": v.pk, "disease": v.disease, "version": v.version, "status": v.status,
        "rejection_reason": v.rejection_reason or None, "sha256": v.sha256, "filename": v.filename,
        "uploaded_by": v.uploaded_by.get_username() if v.uploaded_by else None,
        "uploaded_at": v.uploaded_at.isoformat(),
        "activated_by": v.activated_by.get_username() if v.activated_by else None,
        "activated_at": v.activated_at.isoformat() if v.activated_at else None,
        "metrics": v.test_metrics, "validation_report": v.validation_report,
        "card_url": v.get_absolute_url(), "notice": settings.SYNTHETIC_NOTICE,
    }


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()


# --- the published shapes: the views render through them, so schema and responses cannot drift ---


class VersionOut(serializers.Serializer):
    id = serializers.IntegerField()
    disease = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    rejection_reason = serializers.CharField(allow_null=True)
    sha256 = serializers.CharField()
    filename = serializers.CharField()
    uploaded_by = serializers.CharField(allow_null=True)
    uploaded_at = serializers.DateTimeField()
    activated_by = serializers.CharField(allow_null=True)
    activated_at = serializers.DateTimeField(allow_null=True)
    metrics = serializers.DictField(child=serializers.JSONField(), help_text="Test-set metrics of the model card")
    validation_report = serializers.ListField(child=serializers.DictField(child=serializers.JSONField()))
    card_url = serializers.CharField()
    notice = serializers.CharField()


class VersionListOut(serializers.Serializer):
    results = VersionOut(many=True)


class RescoreOut(serializers.Serializer):
    id = serializers.IntegerField()
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    remaining = serializers.IntegerField()


class ActivatedOut(VersionOut):
    rescore = RescoreOut()


class AdminErrorOut(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    errors = serializers.JSONField(required=False, help_text="Per-field problems, when there are any")


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(AdminErrorOut, description=description)


FORBIDDEN = _error("Not signed in as a model admin (session authentication; POST needs the CSRF token)")
NOT_FOUND = _error("No such model version")
# The route's <int:pk> matches digits only: a negative id is no URL of this API.
ID = OpenApiParameter("id", {"type": "integer", "minimum": 0}, OpenApiParameter.PATH)


@extend_schema(
    methods=["GET"], operation_id="model_versions_list", summary="Model versions, newest first per disease",
    parameters=[OpenApiParameter("disease", OpenApiTypes.STR, enum=Disease.values, required=False)],
    responses={200: VersionListOut, 400: _error("Unknown disease"), 403: FORBIDDEN},
)
@extend_schema(
    methods=["POST"], operation_id="model_versions_upload", summary="Upload a model package; it is validated "
    "before it can be activated",
    request={"multipart/form-data": {"type": "object", "required": ["file"], "additionalProperties": False,
                                     "properties": {"file": {"type": "string", "format": "binary",
                                                             "description": "The model package (.clinnova)"}}}},
    responses={201: OpenApiResponse(VersionOut, description="Validated"),
               202: OpenApiResponse(VersionOut, description="Accepted: the booster checks and canary run as a job; "
                                                            "GET the version until its status is validated or "
                                                            "rejected (validation_report shows progress)"),
               422: OpenApiResponse(VersionOut, description="Rejected: see rejection_reason"),
               400: _error("No file in the multipart field 'file'"), 403: FORBIDDEN,
               413: _error("The package is over MODEL_UPLOAD_MAX_BYTES")},
)
@api_view(["GET", "POST"])
@permission_classes([IsModelAdmin])
@parser_classes([MultiPartParser])
def model_versions(request):
    if request.method == "GET":
        qs = ModelVersion.objects.defer("package").select_related("uploaded_by", "activated_by")
        disease = request.query_params.get("disease")
        if disease:
            if disease not in Disease.values:
                return Response({"code": "invalid", "message": f"disease '{disease}' must be one of "
                                 + ", ".join(Disease.values)}, status=400)
            qs = qs.filter(disease=disease)
        return Response(VersionListOut({"results": [version_payload(v) for v in qs]}).data)
    unknown = sorted(set(request.data) - {"file"})
    if unknown:
        # As on the JSON API: a misspelt field is an error, not silently ignored.
        return Response({"code": "invalid", "message": f"'{unknown[0]}' is not a field of this upload; send only "
                         "the multipart field 'file'.",
                         "errors": {name: ["is not a field of this request"] for name in unknown}}, status=400)
    form = UploadSerializer(data=request.data)
    if not form.is_valid():
        return Response({"code": "invalid", "message": "Send the model package as the multipart field 'file'.",
                         "errors": form.errors}, status=400)
    upload = form.validated_data["file"]
    if upload.size > settings.MODEL_UPLOAD_MAX_BYTES:
        return Response({"code": "too_large", "message": f"The package is {upload.size} bytes; the limit is "
                         f"{settings.MODEL_UPLOAD_MAX_BYTES} bytes."}, status=413)
    version = model_version_upload(data=upload.read(), filename=upload.name, actor=Actor.from_request(request))
    code = {"rejected": status.HTTP_422_UNPROCESSABLE_ENTITY,
            "validating": status.HTTP_202_ACCEPTED}.get(version.status, status.HTTP_201_CREATED)
    response = Response(VersionOut(version_payload(version)).data, status=code)
    if code == status.HTTP_202_ACCEPTED:
        response["Location"] = reverse("api-model-version", args=[version.pk])
    return response


@extend_schema(summary="One model version", parameters=[ID],
               responses={200: VersionOut, 403: FORBIDDEN, 404: NOT_FOUND})
@api_view(["GET"])
@permission_classes([IsModelAdmin])
def model_version_detail(request, pk: int):
    return Response(VersionOut(version_payload(get_object_or_404(ModelVersion.objects.defer("package"), pk=pk))).data)


class ActivateIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000,
                                   help_text="Required (a sentence) when the version is worse than the active one on "
                                             "any validation figure; kept in the audit trail")


@extend_schema(summary="Activate a validated model version and re-score the latest visits of its disease",
               request=ActivateIn, parameters=[ID],
               responses={200: ActivatedOut, 403: FORBIDDEN, 404: NOT_FOUND,
                          409: _error("The version cannot be activated (rejected, or already active)"),
                          422: _error("The version is worse than the active one and no reason was given")})
@api_view(["POST"])
@permission_classes([IsModelAdmin])
def model_version_activate_view(request, pk: int):
    version = get_object_or_404(ModelVersion.objects.defer("package"), pk=pk)
    try:
        data = request.data
    except UnsupportedMediaType:
        data = {}  # a body-less POST, as before reasons existed: a reason is then simply not given
    reason = data.get("reason", "") if hasattr(data, "get") else ""
    try:
        run = model_version_activate(version=version, actor=Actor.from_request(request),
                                     reason=str(reason or "")[:2000])
    except ReasonRequired as exc:
        return Response({"code": "reason_required", "message": str(exc),
                         "errors": [{"field": "reason", "message": str(exc)}]}, status=422)
    except RegistryError as exc:
        return Response({"code": "not_activatable", "message": str(exc)}, status=409)
    version.refresh_from_db()
    return Response(ActivatedOut({**version_payload(version), "rescore": {"id": run.pk, **run.progress()}}).data)
