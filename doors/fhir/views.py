"""The FHIR endpoints: parse, authorize with the EHR token, call one service, answer FHIR (errors included)."""

from __future__ import annotations

import uuid

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from clinnova.audit import Actor, audit_record
from doors.api.auth import EHRClientThrottle, EHRTokenAuthentication, IsEHRClient
from doors.api.parsers import BoundedJSONParser, body_limit_check
from doors.fhir import codes
from doors.fhir.errors import FHIRError, Issue, operation_outcome
from doors.fhir.ingest import fhir_bundle_ingest
from doors.fhir.outcome import outcome_observation_read
from doors.fhir.outbound import capability_statement, risk_assessment_searchset
from doors.outcomes import OutcomeError, ehr_outcome_record, outcome_body
from patients.models import EHRClient, Patient
from recommendations.selectors import recommendation_payload

MEDIA_TYPES = ("application/fhir+json", "application/json")
# OperationOutcome issue codes (http://hl7.org/fhir/issue-type) for the HTTP errors DRF raises.
ISSUE_CODES = {400: "structure", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
               406: "not-supported", 413: "too-costly", 415: "not-supported", 429: "throttled"}


class FHIRJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir"


class FHIRJSONParser(BoundedJSONParser):
    media_type = "application/fhir+json"


class FHIRView(APIView):
    authentication_classes = [EHRTokenAuthentication]
    permission_classes = [IsEHRClient]
    throttle_classes = [EHRClientThrottle]
    parser_classes = [FHIRJSONParser, BoundedJSONParser]
    renderer_classes = [FHIRJSONRenderer, JSONRenderer]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permission and throttling come first
        if request.method == "POST":
            body_limit_check(request)
            if request.content_type.split(";")[0].strip().lower() not in MEDIA_TYPES:
                raise exceptions.UnsupportedMediaType(request.content_type or "(none)")

    def handle_exception(self, exc):
        if isinstance(exc, FHIRError):
            return Response(operation_outcome(exc.issues), status=exc.status)
        # DRF sets the status and its headers (WWW-Authenticate, Retry-After); FHIR wants an OperationOutcome body.
        response = super().handle_exception(exc)
        message = response.data.get("message", "") if isinstance(response.data, dict) else str(response.data)
        response.data = operation_outcome([Issue(ISSUE_CODES.get(response.status_code, "processing"), message)])
        return response

    def actor(self, request) -> Actor:
        return Actor.from_request(request, client=request.auth.actor_name)


@extend_schema(exclude=True)  # FHIR's own contract is the CapabilityStatement
class MetadataView(FHIRView):
    # Public, like the data dictionary: a client reads it before it holds a token.
    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = []

    def get(self, request):
        return Response(capability_statement(), headers={"Cache-Control": "public, max-age=3600"})


@extend_schema(exclude=True)
class BundleView(FHIRView):
    def post(self, request):
        return Response(fhir_bundle_ingest(client=request.auth, raw=request.data, actor=self.actor(request)))


@extend_schema(exclude=True)
class RiskAssessmentView(FHIRView):
    def get(self, request):
        wanted = request.query_params.get("patient") or request.query_params.get("subject")
        if not wanted:
            raise FHIRError(400, [Issue("required", "search with ?patient=<Clinnova patient id>")])
        actor = self.actor(request)
        patient = _patient_for_client(request.auth, wanted, actor=actor)
        visit = patient.visits.select_related("patient").first() if patient else None
        payload = recommendation_payload(visit) if visit else None
        if visit is not None:
            audit_record(actor=actor, action="recommendation_read", obj=visit, patient_id=patient.pk,
                         site_code=request.auth.site.code, detail={"via": "fhir"})
        self_url = settings.SITE_URL + request.get_full_path()
        return Response(risk_assessment_searchset(visit, payload, self_url=self_url))


@extend_schema(exclude=True)
class ObservationView(FHIRView):
    """POST an Observation: the outcome of a decision at the model's horizon (doors/fhir/outcome.py)."""

    def post(self, request):
        observation = outcome_observation_read(request.data)
        try:
            outcome = ehr_outcome_record(client=request.auth, visit_id=observation.visit_id,
                                         responded=observation.responded, assessed_on=observation.assessed_on,
                                         note=observation.note, patient=observation.patient,
                                         actor=self.actor(request))
        except OutcomeError as exc:
            element = {"visit": "focus[0]", "responded": "valueBoolean", "assessed_on": "effectiveDateTime"}
            raise FHIRError(422, [Issue("business-rule" if exc.field in ("visit", "responded") else "value",
                                        f"{exc.value!r}: {exc.message}",
                                        expression=f"Observation.{element.get(exc.field, exc.field)}")]) from None
        if outcome is None:
            raise FHIRError(404, [Issue("not-found", f"No Encounter {observation.visit_id!r} was sent by this client",
                                        expression="Observation.focus[0]")])
        body = outcome_body(observation.visit_id, outcome)
        return Response({
            "resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": codes.TREATMENT_OUTCOME, "code": codes.TREATMENT_OUTCOME_CODE}]},
            "subject": {"reference": f"Patient/{outcome.recommendation.visit.patient_id}"},
            "focus": [{"reference": f"Encounter/{observation.visit_id}"}],
            "effectiveDateTime": body["assessed_on"], "valueBoolean": outcome.responded,
            "extension": [{"url": "urn:clinnova:fhir:StructureDefinition:outcome-of-model-version",
                           "valueString": f"{outcome.disease} v{body['model_version']}"}],
        }, status=201)


def _patient_for_client(client: EHRClient, wanted: str, *, actor: Actor) -> Patient | None:
    """The patient if at the client's site; otherwise None, audited, exactly as for an unknown id."""
    try:
        pk = uuid.UUID(wanted.removeprefix("Patient/"))
    except ValueError:
        pk = None
    patient = Patient.objects.filter(pk=pk, site=client.site_id).first() if pk else None
    if patient is None:
        audit_record(actor=actor, action="access_refused", patient_id=pk, site_code=client.site.code,
                     detail={"reason": "patient not found at the client's site", "via": "fhir"})
    return patient
