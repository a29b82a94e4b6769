"""The shapes of the EHR JSON API. Only shape and types here: the dictionary judges the values."""

from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from doors.api import contract
from doors.api.responses import ScalarField
from patients.dates import EARLIEST_YEAR
from patients.dictionary import Disease
from patients.models import Outcome, Sex
from recommendations.selectors import FAILED, NO_ACTIVE_MODEL, PENDING, READY


def _choice(choices, **kwargs) -> serializers.ChoiceField:
    allowed = ", ".join(value for value, _ in choices)
    return serializers.ChoiceField(choices=choices, error_messages={"invalid_choice": f"must be one of {allowed}"},
                                   **kwargs)


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know, so a misspelt field is an error instead of silently lost data."""

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, dict):
            unknown = {key: ["is not a field of this request"] for key in data if key not in self.fields}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not unknown:
                raise
            raise serializers.ValidationError({**exc.detail, **unknown}) from None
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


@extend_schema_field({"type": "string", "enum": contract.drug_enum(),
                      "description": "ATC code (current, pre-2024 or older) or INN name from the drug catalogue "
                                     "(GET /api/v1/dictionary/)"})
class DrugField(serializers.CharField):
    """Resolved against the catalogue by the visit service, which names the field and value it refuses."""


@extend_schema_field({"type": "integer", "minimum": EARLIEST_YEAR, "maximum": dt.date.today().year})
class BirthYearField(serializers.IntegerField):
    """The range is the visit service's (patients.services), which names the year it refuses."""


class PatientIn(StrictSerializer):
    id = serializers.CharField(max_length=100, help_text="The EHR's pseudonymous patient id")
    sex = _choice(Sex.choices)
    birth_year = BirthYearField(help_text="An age of 0 to 120 at the visit")
    diagnosed_on = serializers.DateField(required=False, allow_null=True)


class TherapyIn(StrictSerializer):
    """A therapy line: sent again with a stop (and its reason) when the drug stops; a restart is a new start."""

    drug = DrugField(max_length=100)
    start = serializers.DateField()
    stop = serializers.DateField(required=False, allow_null=True, default=None,
                                 help_text="Empty while the drug is taken; not after the visit date")
    outcome = _choice(Outcome.choices, required=False, default=Outcome.ONGOING,
                      help_text="The stop reason; 'ongoing' while taken. A stop without a reason is stored as "
                                "not_recorded")
    stop_detail = serializers.CharField(max_length=300, required=False, default="", allow_blank=True,
                                        help_text="The adverse event (or other reason) in words or as a code, e.g. 'anaphylaxis' or 'SNOMED 39579001': a hypersensitivity reaction contraindicates the drug from then on")
    dose = serializers.CharField(max_length=100, required=False, default="", allow_blank=True,
                                 help_text="e.g. 40 mg every 2 weeks")
    response_at_followup = serializers.BooleanField(required=False, allow_null=True, default=None)


MEASUREMENTS_HELP = (
    "Keyed by data dictionary name (GET /api/v1/dictionary/): a number in the dictionary's unit, "
    '{"value": number, "unit": "<UCUM>"}, a code, a date (YYYY-MM-DD) or true/false. A lab result read against the '
    'lab\'s upper reference limit (RF and anti-CCP titres, ALT) may carry it: {"value": 35, "unit": "[IU]/mL", '
    '"reference_high": 14}.'
)


@extend_schema_field({
    "oneOf": [
        {"type": "number"}, {"type": "string"}, {"type": "boolean"},
        {"type": "object", "required": ["value"],
         "properties": {"value": {"type": "number"}, "unit": {"type": "string", "example": "mg/dL"},
                        "reference_high": {"type": "number", "description": "the lab's upper reference limit, "
                                                                              "in the same unit"}}},
    ],
    "nullable": True,
})
class MeasurementValue(serializers.Field):
    """A number, code, boolean or null, or {"value", "unit"} with a string unit; the dictionary checks the rest."""

    default_error_messages = {
        # Braces doubled: DRF formats error messages with str.format.
        "invalid": 'must be a number, a code, true or false, or {{"value": number, "unit": "<UCUM unit>"}} '
                   '(with "reference_high" for a result read against the lab\'s upper reference limit)',
    }

    def to_internal_value(self, data):
        if isinstance(data, dict) and set(data) <= {"value", "unit", "reference_high"}:
            # Units are looked up in tables: a list or object there is a shape error, caught here.
            if _scalar(data.get("value")) and isinstance(data.get("unit"), (str, type(None))) \
                    and _scalar(data.get("reference_high")):
                return data
        elif _scalar(data):
            return data
        self.fail("invalid")

    def to_representation(self, value):
        return value


def _scalar(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


@extend_schema_field(contract.measurements_schema())
class MeasurementsField(serializers.DictField):
    """Shape only: the data dictionary judges names, values and units and names each one it refuses."""


@extend_schema_field(contract.measurements_schema(group="safety"))
class ComorbiditiesField(MeasurementsField):
    pass


def _measurements(field_class, help_text: str) -> serializers.DictField:
    # allow_null on the child: null means "not measured", which the dictionary drops.
    return field_class(child=MeasurementValue(allow_null=True), required=False, default=dict, help_text=help_text)


class AmendIn(StrictSerializer):
    date = serializers.DateField(help_text="Visit date (ISO 8601), not after today")
    measurements = _measurements(MeasurementsField, MEASUREMENTS_HELP + " Only variables recorded for the visit's "
                                 "disease; derived variables (age, disease duration, prior therapies) are computed "
                                 "from the record and refused.")
    comorbidities = _measurements(ComorbiditiesField, 'Dictionary variables of group "safety" only, in the same form '
                                  "as measurements, and not also in measurements")


class VisitIn(AmendIn):
    # No "/": the id is a path segment of PUT /api/v1/visits/{visit_id}.
    # Trimmed, not blank, no NUL (as every text field), and no "/".
    visit_id = serializers.RegexField(r"^[^/\x00]*[^/\s\x00][^/\x00]*$", max_length=100,
                                      help_text="The EHR's visit id: the idempotency key",
                                      error_messages={"invalid": "must not contain '/'"})
    patient = PatientIn()
    disease = _choice(Disease.choices)
    therapies = TherapyIn(many=True, required=False, default=list)


class RecommendationLink(serializers.Serializer):
    url = serializers.CharField(help_text="GET it until status is no longer pending")
    status = serializers.ChoiceField(choices=[(s, s) for s in (PENDING, READY, FAILED, NO_ACTIVE_MODEL)])


class VisitOut(serializers.Serializer):
    visit_id = serializers.CharField()
    visit = serializers.UUIDField()
    patient = serializers.UUIDField()
    recommendation = RecommendationLink()


class AmendedVisitOut(VisitOut):
    version = serializers.IntegerField()


class FieldErrorOut(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.JSONField(allow_null=True)
    message = serializers.CharField()


class ErrorOut(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    errors = FieldErrorOut(many=True)


class ConflictOut(ErrorOut):
    differing_fields = serializers.ListField(child=serializers.CharField(), required=False)


class IdentifierOut(serializers.Serializer):
    system = serializers.CharField()
    value = serializers.CharField()


class DiagnosisOut(serializers.Serializer):
    disease = serializers.CharField()
    subtype = serializers.CharField()
    icd10 = serializers.CharField()
    diagnosed_on = serializers.DateField()


class ScoreOut(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.FloatField()
    category = serializers.CharField()
    category_label = serializers.CharField()


class PatientVisitOut(serializers.Serializer):
    id = serializers.UUIDField()
    visit_id = serializers.SerializerMethodField(help_text="Your visit id, when your system sent the visit")
    date = serializers.DateField(source="visit_date")
    disease = serializers.CharField()
    measurements = serializers.DictField(child=ScalarField(allow_null=True),
                                         help_text="Keyed by data dictionary name, in the dictionary's unit")
    scores = serializers.DictField(child=ScoreOut(), help_text="Derived scores (DAS28, HBI, ...) keyed by name")
    activity_score = serializers.FloatField(allow_null=True)
    activity_label = serializers.CharField()
    activity_category = serializers.CharField()
    version = serializers.IntegerField()
    source = serializers.CharField()

    def get_visit_id(self, visit) -> str | None:
        return visit.source_id if visit.source_system == self.context["client"].identifier_system else None


class TherapyOut(serializers.Serializer):
    drug = serializers.CharField(source="drug_atc")
    name = serializers.CharField(source="drug.name")
    start = serializers.DateField(source="started_on")
    stop = serializers.DateField(source="stopped_on", allow_null=True)
    outcome = serializers.CharField(help_text="The stop reason; 'ongoing' while the drug is taken")
    stop_detail = serializers.CharField()
    dose = serializers.CharField()
    response_at_followup = serializers.BooleanField(allow_null=True)


class StateValueOut(serializers.Serializer):
    value = MeasurementValue(allow_null=True)
    status = serializers.ChoiceField(choices=["current", "expired", "unknown"],
                                     help_text="expired and unknown values are not used by rules or models")
    recorded_on = serializers.DateField(allow_null=True)
    valid_until = serializers.DateField(allow_null=True)
    source = serializers.CharField(allow_null=True)
    source_ref = serializers.CharField(allow_null=True)


class StateOut(serializers.Serializer):
    on = serializers.DateField()
    values = serializers.DictField(child=StateValueOut(), help_text="Keyed by data dictionary name")
    current_therapies = serializers.ListField(child=serializers.CharField(), help_text="ATC codes")


class PatientOut(serializers.Serializer):
    id = serializers.UUIDField()
    site = serializers.CharField()
    sex = serializers.CharField()
    birth_year = serializers.IntegerField()
    identifiers = IdentifierOut(many=True)
    diagnoses = DiagnosisOut(many=True)
    visits = PatientVisitOut(many=True)
    therapies = TherapyOut(many=True)
    state = StateOut(help_text="What is known of the patient today: each value in force with its date and status")


class OutcomeIn(StrictSerializer):
    responded = serializers.BooleanField(help_text="The model's outcome was met at its horizon (e.g. EULAR good "
                                                   "response at month 6), as assessed by the site")
    assessed_on = serializers.DateField(help_text="When it was assessed (ISO 8601): inside the model's outcome window")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class OutcomeOut(serializers.Serializer):
    visit_id = serializers.CharField(help_text="The decision visit, by the EHR's visit id")
    visit = serializers.UUIDField()
    model_version = serializers.IntegerField(allow_null=True, help_text="The version that made the prediction")
    drug = serializers.CharField(help_text="ATC code of the drug started")
    followed = serializers.BooleanField(help_text="The drug started was the top suggestion")
    status = serializers.CharField(help_text="known once recorded")
    responded = serializers.BooleanField(allow_null=True)
    source = serializers.CharField(help_text="ehr (recorded here) or visits (derived from later visits)")
    assessed_on = serializers.DateField(allow_null=True)
