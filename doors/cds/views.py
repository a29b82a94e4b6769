"""The CDS Hooks endpoints: discovery, the patient-view service and its feedback."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from clinnova.audit import Actor
from doors.api.parsers import BoundedJSONParser, body_limit_check
from doors.cds.auth import CdsClientThrottle, CdsJWTAuthentication, IsCdsClient
from doors.cds.feedback import feedback_store
from doors.cds.service import SERVICE_ID, discovery, patient_view_answer


@extend_schema(exclude=True)  # CDS Hooks 2.0 is its own contract
class DiscoveryView(APIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    def get(self, request):
        return Response(discovery())


@method_decorator(transaction.atomic, name="dispatch")
class CdsView(APIView):
    """One transaction per call: the spent jti, the audit event and any feedback commit together."""

    authentication_classes = [CdsJWTAuthentication]
    permission_classes = [IsCdsClient]
    throttle_classes = [CdsClientThrottle]
    parser_classes = [BoundedJSONParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # the JWT is checked (and its jti spent) first
        body_limit_check(request)
        if request.content_type.split(";")[0].strip().lower() != "application/json":
            raise exceptions.UnsupportedMediaType(request.content_type or "(none)")

    def handle_exception(self, exc):
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            # CDS Hooks: a client that cannot be trusted learns nothing about why.
            return HttpResponse(status=401, headers={"WWW-Authenticate": 'Bearer realm="clinnova-cds-hooks"'})
        return super().handle_exception(exc)

    def actor(self, request) -> Actor:
        return Actor.from_request(request, client=request.auth.actor_name)


@extend_schema(exclude=True)
class ServiceView(CdsView):
    def post(self, request):
        return Response(patient_view_answer(client=request.auth, body=request.data, actor=self.actor(request)))


@extend_schema(exclude=True)
class FeedbackView(CdsView):
    def post(self, request):
        feedback_store(client=request.auth, service_id=SERVICE_ID, body=request.data, actor=self.actor(request))
        return HttpResponse(status=200)
