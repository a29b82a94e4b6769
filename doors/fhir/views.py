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
from doors.fhir.outbound import (
    capability_statement,
    encounter_resource,
    patient_resource,
    risk_assessment,
    risk_assessment_searchset,
)
from doors.fhir.outcome import outcome_observation_read
from doors.outcomes import OutcomeError, ehr_outcome_record, outcome_body
from patients.models import EHRClient, Patient, Visit
from patients.selectors import patient_for_client
from recommendations.selectors import recommendation_payload

MEDIA_TYPES = ("application/fhir+json", "application/json")
JSON_FORMATS = ("json", "application/json", "application/fhir+json", "application/json+fhir")
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
        # FHIR's _format (R4 http.html#mime-type) overrides Accept; only JSON is spoken here, and answering JSON
        # to a client that asked for XML would hand it a body it cannot parse.
        wanted = request.query_params.get("_format")
        if wanted is not None and wanted.strip().lower() not in JSON_FORMATS:
            raise exceptions.NotAcceptable(f"_format={wanted[:40]!r}: this server speaks FHIR JSON only "
                                           f"(_format=json or application/fhir+json)")
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
    """Search: ?patient= (Clinnova's id or the EHR's Patient.id) or ?patient.identifier=system|value."""

    def get(self, request):
        actor = self.actor(request)
        patient = _patient_searched(request.auth, request.query_params, actor=actor)
        visit = patient.visits.select_related("patient").first() if patient else None
        payload = recommendation_payload(visit) if visit else None
        if visit is not None:
            audit_record(actor=actor, action="recommendation_read", obj=visit, patient_id=patient.pk,
                         site_code=request.auth.site.code, detail={"via": "fhir"})
        self_url = settings.SITE_URL + request.get_full_path()
        return Response(risk_assessment_searchset(visit, payload, self_url=self_url))


@extend_schema(exclude=True)
class RiskAssessmentReadView(FHIRView):
    """The RiskAssessment of a visit's current recommendation, by the id a searchset's fullUrl names."""

    def get(self, request, visit_uuid):
        visit = _visit_for_client(request.auth, visit_uuid, actor=self.actor(request))
        payload = recommendation_payload(visit)
        if payload.get("status") != "ready":
            raise FHIRError(404, [Issue("not-found", payload.get("message") or f"The recommendation of this visit "
                                        f"is {payload['status']}: there is no RiskAssessment yet")])
        audit_record(actor=self.actor(request), action="recommendation_read", obj=visit, patient_id=visit.patient_id,
                     site_code=request.auth.site.code, detail={"via": "fhir"})
        return Response(risk_assessment(visit, payload))


@extend_schema(exclude=True)
class PatientReadView(FHIRView):
    """The patient by Clinnova's id (the `location` a Bundle response gives) or the EHR's own Patient.id."""

    def get(self, request, patient_id):
        actor = self.actor(request)
        patient = _patient_for_client(request.auth, patient_id, actor=actor)
        if patient is None:
            raise FHIRError(404, [Issue("not-found", f"No patient {patient_id[:100]!r} at this client's site")])
        audit_record(actor=actor, action="patient_read", obj=patient, patient_id=patient.pk,
                     site_code=request.auth.site.code, detail={"via": "fhir"})
        return Response(patient_resource(patient, request.auth))


@extend_schema(exclude=True)
class EncounterReadView(FHIRView):
    """A visit as the Encounter a Bundle response's `location` names."""

    def get(self, request, visit_uuid):
        visit = _visit_for_client(request.auth, visit_uuid, actor=self.actor(request))
        audit_record(actor=self.actor(request), action="patient_read", obj=visit, patient_id=visit.patient_id,
                     site_code=request.auth.site.code, detail={"via": "fhir"})
        return Response(encounter_resource(visit))


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
    """The patient the client names so (its Patient.id, its own patient id, or Clinnova's id) at its site;
    otherwise None, audited, exactly as for an unknown id."""
    patient = patient_for_client(clients=[client], patient_id=wanted)
    if patient is None:
        try:  # a Clinnova id of another site's patient: the refusal is on that patient's trail
            refused = uuid.UUID(wanted.removeprefix("Patient/"))
        except ValueError:
            refused = None
        audit_record(actor=actor, action="access_refused", patient_id=refused, site_code=client.site.code,
                     detail={"reason": "patient not found at the client's site", "via": "fhir"})
    return patient


def _patient_searched(client: EHRClient, params, *, actor: Actor) -> Patient | None:
    wanted = params.get("patient") or params.get("subject")
    identifier = params.get("patient.identifier") or params.get("subject.identifier")
    if wanted:
        return _patient_for_client(client, wanted, actor=actor)
    if identifier:
        system, bar, value = identifier.partition("|")
        if not bar or not system or not value:
            raise FHIRError(400, [Issue("value", f"patient.identifier={identifier[:100]!r}: search with "
                                        "system|value (FHIR token search; a value without its system could "
                                        "name another patient)", "patient.identifier")])
        patient = patient_for_client(clients=[client], identifier=(system, value))
        if patient is None:
            audit_record(actor=actor, action="access_refused", site_code=client.site.code,
                         detail={"reason": "patient not found at the client's site", "via": "fhir"})
        return patient
    raise FHIRError(400, [Issue("required", "search with ?patient=<Clinnova patient id or the EHR's Patient.id> "
                                "or ?patient.identifier=<system>|<value>")])


def _visit_for_client(client: EHRClient, visit_uuid, *, actor: Actor) -> Visit:
    """The visit at the client's site, else 404, audited as a refused access exactly like an unknown id."""
    visit = Visit.objects.select_related("patient").filter(pk=visit_uuid, site_id=client.site_id).first()
    if visit is None:
        audit_record(actor=actor, action="access_refused", site_code=client.site.code,
                     detail={"reason": "visit not found at the client's site", "via": "fhir"})
        raise FHIRError(404, [Issue("not-found", f"No visit {visit_uuid} at this client's site")])
    return visit
