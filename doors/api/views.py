"""The EHR JSON API: parse, authorize, call one service, render."""

from __future__ import annotations

import uuid

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from clinnova.audit import Actor, audit_record
from doors.api import responses
from doors.api import serializers as s
from doors.api.auth import EHRClientThrottle, EHRTokenAuthentication, IsEHRClient
from doors.api.ingest import ehr_visit_amend, ehr_visit_ingest, visit_body
from doors.api.parsers import BoundedJSONParser, body_limit_check
from doors.outcomes import OutcomeError, ehr_outcome_record, outcome_body
from patients import dictionary, drugs, selectors
from patients.models import EHRClient, Patient, Visit
from patients.state import patient_state
from recommendations import rules_catalogue
from recommendations.selectors import recommendation_payload

# The published contract does not change while the process runs: build it once.
DICTIONARY = responses.DictionaryOut({
    "variables": [v.as_dict() for v in dictionary.VARIABLES],
    "drugs": [d.as_dict() for d in drugs.DRUGS],
    "diseases": [
        {"code": d.value, "label": d.label, "icd10": list(dictionary.DISEASE_CODES[d]["icd10"]),
         "snomed": list(dictionary.DISEASE_CODES[d]["snomed"])}
        for d in dictionary.Disease
    ],
    # The safety rules and licensed indications every recommendation's flags come from, with their sources.
    **rules_catalogue.published(),
}).data


def _error(description: str, serializer=s.ErrorOut) -> OpenApiResponse:
    return OpenApiResponse(serializer, description=description)


UNAUTHORIZED = _error("No token, an unknown token or a revoked token")
THROTTLED = _error("Too many requests from this client; retry after the Retry-After header's seconds")
BODY_ERRORS = {
    400: _error("Malformed JSON, or fields that do not fit the data dictionary: each one named in errors"),
    401: UNAUTHORIZED,
    413: _error("The body is over the size limit (256 KB unless configured otherwise)"),
    415: _error("The body is not application/json"),
    429: THROTTLED,
}


class DictionaryView(APIView):
    # Public and read-only: it is the contract an integrator reads before holding a token.
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(operation_id="dictionary_retrieve",
                   summary="The data dictionary: variables, candidate drugs and diseases with their codes, and the "
                           "safety rules and licensed indications with their sources",
                   responses={200: OpenApiResponse(responses.DictionaryOut,
                                                   description="The contract every door reads")})
    def get(self, request):
        return Response(DICTIONARY, headers={"Cache-Control": "public, max-age=3600"})


class EHRView(APIView):
    authentication_classes = [EHRTokenAuthentication]
    permission_classes = [IsEHRClient]
    parser_classes = [BoundedJSONParser]
    throttle_classes = [EHRClientThrottle]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permission and throttling come first
        if request.method in ("POST", "PUT") and hasattr(self, request.method.lower()):
            body_limit_check(request)
            # DRF would read a body without a content type as {}; say what is wrong instead.
            if request.content_type.split(";")[0].strip().lower() != "application/json":
                raise exceptions.UnsupportedMediaType(request.content_type or "(none)")

    def actor(self, request) -> Actor:
        return Actor.from_request(request, client=request.auth.actor_name)


class VisitsView(EHRView):
    @extend_schema(
        operation_id="visit_create", summary="Store a visit (idempotent per visit_id)",
        request=s.VisitIn,
        responses={
            201: OpenApiResponse(s.VisitOut, description="Stored; scoring has been queued"),
            200: OpenApiResponse(s.VisitOut, description="This visit_id was stored before with the same content"),
            409: _error("This visit_id was stored before with different content (see differing_fields), "
                        "or a concurrent request for the same patient won: send it again", s.ConflictOut),
            **BODY_ERRORS,
        },
    )
    def post(self, request):
        data = s.visit_in_validated(request.data)
        received = ehr_visit_ingest(client=request.auth, data=data, actor=self.actor(request))
        code = status.HTTP_201_CREATED if received.created else status.HTTP_200_OK
        return Response(visit_body(received.key, created=received.created), status=code)


class VisitView(EHRView):
    @extend_schema(
        operation_id="visit_amend",
        summary="Amend a visit this client sent: new date and measurements; the previous content is kept as a revision",
        request=s.AmendIn,
        responses={200: s.AmendedVisitOut, 404: _error("This client never sent this visit_id"), **BODY_ERRORS},
    )
    def put(self, request, visit_id: str):
        incoming = s.AmendIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        # An id POST would have refused (NUL, over 100 characters) was never stored, and PostgreSQL cannot compare it.
        key = None
        if len(visit_id) <= 100 and "\x00" not in visit_id:
            key = ehr_visit_amend(client=request.auth, visit_id=visit_id, data=incoming.validated_data,
                                  actor=self.actor(request))
        if key is None:
            raise exceptions.NotFound(f"No visit with visit_id {visit_id!r} was sent by this client.")
        return Response({**visit_body(key), "version": key.visit.version})


class PatientView(EHRView):
    @extend_schema(
        operation_id="patient_retrieve",
        summary="A patient of this client's site: diagnoses, visits with measurements and scores, therapy lines, "
                "and the state today (each value with its date and whether it is current, expired or unknown)",
        responses={200: s.PatientOut, 401: UNAUTHORIZED, 404: _error("No such patient at this client's site"),
                   429: THROTTLED},
    )
    def get(self, request, patient_id: str):
        actor = self.actor(request)
        patient = _patient_get_for_client(request.auth, patient_id, actor=actor)
        audit_record(actor=actor, action="patient_read", obj=patient, patient_id=patient.pk,
                     site_code=patient.site.code, detail={"via": "api"})
        record = selectors.patient_record(patient)
        state = patient_state(patient, on=timezone.localdate())
        data = {"id": patient.pk, "site": patient.site.code, "sex": patient.sex, "birth_year": patient.birth_year,
                **record, "state": {"on": state.on, "current_therapies": sorted(state.current_drugs),
                                    "values": {name: v.as_dict() for name, v in state.values.items()}}}
        return Response(s.PatientOut(data, context={"client": request.auth}).data)


class RecommendationView(EHRView):
    @extend_schema(
        operation_id="recommendation_retrieve",
        summary="The recommendation of a visit: status and, when ready, ranked drugs with probability, safety flags "
                "and SHAP values (trained on synthetic data, not for clinical use)",
        responses={200: OpenApiResponse(responses.RecommendationOut,
                                        description="status is pending, ready, failed or no_active_model; the drugs, "
                                                    "model version and SHAP values once ready"),
                   401: UNAUTHORIZED, 404: _error("No such visit at this client's site"), 429: THROTTLED},
    )
    def get(self, request, visit_uuid):
        actor = self.actor(request)
        visit = Visit.objects.select_related("patient", "site").filter(pk=visit_uuid, site=request.auth.site_id).first()
        if visit is None:
            audit_record(actor=actor, action="access_refused", site_code=request.auth.site.code,
                         detail={"reason": "visit not found at the client's site", "visit": str(visit_uuid)})
            raise exceptions.NotFound("No such visit at your site.")
        audit_record(actor=actor, action="recommendation_read", obj=visit, patient_id=visit.patient_id,
                     site_code=visit.site.code, detail={"via": "api"})
        return Response(responses.render_recommendation(recommendation_payload(visit)))


class OutcomeView(EHRView):
    @extend_schema(
        operation_id="outcome_record",
        summary="Record the outcome at the model's horizon of the decision taken at a visit this client sent, "
                "when the later visits cannot decide it (e.g. the assessment was not sent as a visit)",
        request=s.OutcomeIn,
        responses={200: s.OutcomeOut,
                   404: _error("This client never sent this visit_id"),
                   **BODY_ERRORS,
                   400: _error("Invalid fields, no decision recorded at this visit, an assessment outside the "
                               "outcome window or in the future, or an outcome the visits already decide")},
    )
    def post(self, request, visit_id: str):
        incoming = s.OutcomeIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            outcome = ehr_outcome_record(client=request.auth, visit_id=visit_id, responded=data["responded"],
                                         assessed_on=data["assessed_on"], note=data["note"],
                                         actor=self.actor(request))
        except OutcomeError as exc:
            raise exceptions.ValidationError({exc.field: [exc.message]}) from None
        if outcome is None:
            raise exceptions.NotFound(f"No visit with visit_id {visit_id!r} was sent by this client.")
        return Response(s.OutcomeOut(outcome_body(visit_id, outcome)).data)


def _patient_get_for_client(client: EHRClient, patient_id: str, *, actor: Actor) -> Patient:
    """The patient if it is at the client's site; otherwise 404, audited, exactly as for an unknown id."""
    try:
        pk = uuid.UUID(patient_id)
    except ValueError:
        pk = None
    patient = Patient.objects.select_related("site").filter(pk=pk, site=client.site_id).first() if pk else None
    if patient is None:
        audit_record(actor=actor, action="access_refused", patient_id=pk, site_code=client.site.code,
                     detail={"reason": "patient not found at the client's site"})
        raise exceptions.NotFound("No such patient at your site.")
    return patient
