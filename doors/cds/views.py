"""The CDS Hooks endpoints: discovery, the patient-view service and its feedback."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from clinnova.audit import Actor
from clinnova.site_url import site_url
from doors.api.errors import PayloadTooLarge
from doors.api.parsers import BoundedJSONParser, body_limit_check
from doors.cds.auth import CdsClientThrottle, CdsJWTAuthentication, IsCdsClient, TokenRefused, challenge
from doors.cds.feedback import feedback_store
from doors.cds.service import PREFETCH_COUNT, SERVICE_ID, discovery, patient_view_answer


class CdsJSONParser(BoundedJSONParser):
    # A CDS call carries the EHR's prefetch: a larger bound than the JSON API's visits.
    limit_setting = "CDS_MAX_BODY_BYTES"


@extend_schema(exclude=True)  # CDS Hooks 2.0 is its own contract
class DiscoveryView(APIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    def get(self, request):
        return Response(discovery())


@method_decorator(transaction.atomic, name="dispatch")
class CdsView(APIView):
    """One transaction per call: the spent jti, the audit event, the issued cards and any feedback commit together."""

    authentication_classes = [CdsJWTAuthentication]
    permission_classes = [IsCdsClient]
    throttle_classes = [CdsClientThrottle]
    parser_classes = [CdsJSONParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # the JWT is checked (and its jti spent) first
        body_limit_check(request, "CDS_MAX_BODY_BYTES")
        if request.content_type.split(";")[0].strip().lower() != "application/json":
            raise exceptions.UnsupportedMediaType(request.content_type or "(none)")

    def handle_exception(self, exc):
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            # RFC 6750 §3.1: a short machine-readable reason; it names what failed, never a key or a secret.
            reason = exc.reason if isinstance(exc, TokenRefused) else "no Bearer token in the Authorization header"
            return JsonResponse({"error": "invalid_token", "error_description": reason}, status=401,
                                headers={"WWW-Authenticate": challenge(reason)})
        if isinstance(exc, PayloadTooLarge):
            return JsonResponse({
                "code": "payload_too_large",
                "message": f"The request is over {settings.CDS_MAX_BODY_BYTES // 1024} KB. This service's prefetch "
                           f"template asks for the newest {PREFETCH_COUNT} observations (_count={PREFETCH_COUNT}, "
                           "_sort=-date); send that, or leave `observations` out to be answered from the record "
                           "Clinnova holds.",
                "errors": []}, status=413)
        return super().handle_exception(exc)

    def actor(self, request) -> Actor:
        return Actor.from_request(request, client=request.auth.actor_name)


@extend_schema(exclude=True)
class ServiceView(CdsView):
    def post(self, request):
        return Response(patient_view_answer(client=request.auth, body=request.data, actor=self.actor(request),
                                            base_url=site_url(request)))


@extend_schema(exclude=True)
class FeedbackView(CdsView):
    def post(self, request):
        feedback_store(client=request.auth, service_id=SERVICE_ID, body=request.data, actor=self.actor(request))
        return HttpResponse(status=200)
