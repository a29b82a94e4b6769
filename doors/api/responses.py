"""The response shapes of the EHR JSON API that selectors build as dicts: the recommendation, the dictionary, imports.

The views render through these serializers, so the published schema is the shape every response has: a field
added to a selector's dict reaches a client only once it is declared (and documented) here.
"""

from __future__ import annotations

from collections.abc import Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from doors.bulk.models import ImportFormat, ImportStatus
from patients import dictionary, drugs
from patients.dictionary import Disease, Kind
from recommendations.selectors import FAILED, NO_ACTIVE_MODEL, PENDING, READY
from recommendations.smpc.base import LEVELS, SEVERITIES

RANKING_GROUPS = ["start", "not_licensed", "contraindicated", "current"]
ATC_CODES = [d.atc for d in drugs.DRUGS]
VARIABLE_NAMES = [v.name for v in dictionary.VARIABLES]


class PayloadOut(serializers.Serializer):
    """A selector's dict rendered as declared: an optional key the dict does not carry is left out, not null."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if isinstance(instance, Mapping):
            for name, field in self.fields.items():
                if not field.required and field.source not in instance:
                    data.pop(name, None)
        return data


def projector(serializer: serializers.Serializer):
    """A function rendering a selector's dict as the serializer declares it, without DRF's per-field calls.

    For hot reads (a recommendation has ~200 SHAP rows): the keys kept are the serializer's, so the schema still
    decides what a client gets, and the values are the selector's, already typed. Same rules as PayloadOut: an
    optional key the dict lacks is left out, a required nullable one is null. test_api_recommendation checks that
    it gives what the serializer gives.
    """
    plan = []
    for name, field in serializer.fields.items():
        many = isinstance(field, serializers.ListSerializer)
        child = field.child if many else field
        nested = projector(child) if isinstance(child, serializers.Serializer) else None
        plan.append((name, field.source if not many else name, field.required, field.allow_null, nested, many))

    def project(data: Mapping) -> dict:
        out = {}
        for name, source, required, allow_null, nested, many in plan:
            if source not in data:
                if not required:
                    continue
                if not allow_null:
                    raise KeyError(source)
            value = data.get(source)
            if value is not None and nested is not None:
                value = [nested(v) for v in value] if many else nested(value)
            out[name] = value
        return out

    return project


@extend_schema_field({"oneOf": [{"type": "number"}, {"type": "string"}, {"type": "boolean"}], "nullable": True})
class ScalarField(serializers.Field):
    """A recorded value as stored: a number, a code, a date (YYYY-MM-DD), true/false, or null when unknown."""

    def to_representation(self, value):
        return value


def _choice(values, **kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=[(v, v) for v in values], **kwargs)


# --- the recommendation ---


class ModelVersionRefOut(PayloadOut):
    id = serializers.IntegerField()
    disease = serializers.ChoiceField(choices=Disease.choices)
    version = serializers.IntegerField()
    outcome = serializers.CharField(help_text="What the model predicts, e.g. EULAR good response at month 6")
    trained_on = serializers.CharField(help_text="Always 'synthetic data': not for clinical use")
    ensemble_members = serializers.IntegerField(required=False, help_text="Bootstrap members behind the intervals; "
                                                                          "0 when the version has none")


class MissingOut(serializers.Serializer):
    name = _choice(VARIABLE_NAMES, help_text="Data dictionary name")
    label = serializers.CharField()


class EvidenceOut(PayloadOut):
    """A value a flag rests on, or (for a check before starting) a value that is missing or expired."""

    variable = serializers.CharField(allow_null=True, help_text="Data dictionary name, when the input is a variable")
    value = ScalarField(allow_null=True, help_text="The value read, in the dictionary's unit; null when not recorded")
    recorded_on = serializers.DateField(allow_null=True)
    label = serializers.CharField(required=False, help_text="Checks: what to record")
    status = serializers.CharField(required=False, help_text="Checks: missing, expired, stale or judgement")
    text = serializers.CharField(required=False, help_text="Checks: the missing input in words")
    expired_on = serializers.DateField(required=False, allow_null=True)


class FlagOut(serializers.Serializer):
    rule = serializers.CharField(help_text="The rule's code (see safety_rules in the dictionary); 'licence' for the "
                                           "licensed indications; several codes joined by '+' for a merged check")
    severity = _choice(SEVERITIES, help_text="The kind of flag")
    message = serializers.CharField()
    source = serializers.CharField(help_text="The documents and sections the rule comes from (EU SmPC ...)")
    verified = _choice([*LEVELS, ""], help_text="How far the source was checked: " + ", ".join(
        f"{level} {meaning}" for level, meaning in LEVELS.items()))
    evidence = EvidenceOut(many=True)


class ReferenceOut(serializers.Serializer):
    position = _choice(["low", "high", "within"])
    range = serializers.CharField(help_text="The reference range in words, e.g. '< 5'")
    source = serializers.CharField()


class ShapOut(PayloadOut):
    feature = serializers.CharField(help_text="The model's feature name: a data dictionary name or a drug column")
    label = serializers.CharField()
    value = ScalarField(allow_null=True, help_text="The feature's value for this patient; null when not recorded "
                                                   "(the model treats it as missing)")
    text = serializers.CharField(help_text="The value in words, e.g. 'CRP 14 mg/L'")
    shap = serializers.FloatField(help_text="Contribution to the log-odds of response")
    pp = serializers.FloatField(required=False, help_text="The same contribution in percentage points of "
                                                          "probability")
    unit = serializers.CharField(required=False, allow_blank=True, help_text="The value's unit as clinicians "
                                                                            "write it")
    reference = ReferenceOut(required=False, allow_null=True, help_text="Where the value lies against its "
                                                                        "reference range; null without one")
    reason = serializers.BooleanField(required=False, help_text="Recorded and moves the probability enough to be "
                                                                "offered as a reason")


class IntervalOut(serializers.Serializer):
    low = serializers.FloatField(min_value=0, max_value=1)
    high = serializers.FloatField(min_value=0, max_value=1)
    level = serializers.FloatField(min_value=0, max_value=1, help_text="The band's coverage, e.g. 0.9")


@extend_schema_field({
    "oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": RANKING_GROUPS}],
    "nullable": True,
    "description": "The drug's tier from the bootstrap ensemble: 1 = best, drugs of one tier cannot be told apart; "
                   "null outside the tiers. Servers before the ensemble sent the ranking group here (see group).",
})
class TierField(serializers.Field):
    def to_representation(self, value):
        return value


class RankedDrugOut(PayloadOut):
    rank = serializers.IntegerField(min_value=1)
    atc = _choice(ATC_CODES, help_text="ATC code (2024 version)")
    name = serializers.CharField(help_text="INN name")
    probability = serializers.FloatField(min_value=0, max_value=1, help_text="Predicted probability of response")
    contraindicated = serializers.BooleanField()
    current = serializers.BooleanField(help_text="Already taken on the visit date: continue rather than start")
    tier = TierField(allow_null=True)
    group = _choice(RANKING_GROUPS, required=False, help_text="The ranking's group: start (licensed, no "
                                                              "contraindication), not_licensed, contraindicated, "
                                                              "current")
    licensed = serializers.BooleanField(allow_null=True, help_text="False outside the licence; null when it could "
                                                                   "not be confirmed (a check names what is missing)")
    check_before_starting = serializers.BooleanField()
    flags = FlagOut(many=True, help_text="Most severe first")
    margin = serializers.FloatField(help_text="Model output in log-odds: base_value + the sum of the SHAP values")
    shap = ShapOut(many=True, help_text="Largest effect first")
    interval = IntervalOut(required=False, allow_null=True,
                           help_text="Band of the probability over the bootstrap ensemble members")
    top_suggestion = serializers.BooleanField(required=False, help_text="The one drug the ranking can support as "
                                                                        "the top suggestion")

    def get_fields(self):
        fields = super().get_fields()
        # "class" is a Python keyword: declared here rather than as a class attribute.
        fields["class"] = serializers.CharField(help_text="Drug class label, e.g. Anti-TNF")
        return fields


# Rendered with render_recommendation (the same keys, faster); the class is the schema and the reference.
class RecommendationOut(PayloadOut):
    visit = serializers.UUIDField()
    status = _choice([PENDING, READY, FAILED, NO_ACTIVE_MODEL])
    notice = serializers.CharField(help_text="Trained on synthetic data · not for clinical use")
    reason = serializers.CharField(required=False, allow_blank=True, help_text="failed: why scoring failed")
    message = serializers.CharField(required=False, help_text="no_active_model: which disease has no model")
    id = serializers.IntegerField(required=False, help_text="ready: the recommendation's id")
    created_at = serializers.DateTimeField(required=False)
    model_version = ModelVersionRefOut(required=False)
    base_value = serializers.FloatField(required=False, allow_null=True, help_text="SHAP base value (log-odds)")
    missing = MissingOut(many=True, required=False, help_text="Inputs the model uses that were not recorded")
    note = serializers.CharField(required=False, help_text="Present when inputs are missing")
    drugs = RankedDrugOut(many=True, required=False, help_text="ready: the candidate drugs, ranked")
    rankable = serializers.BooleanField(required=False, help_text="False when the disease's minimum data set is "
                                                                  "incomplete: the order is then not a ranking")
    missing_for_ranking = serializers.ListField(child=serializers.CharField(), required=False,
                                                help_text="Data dictionary names of the minimum data set not recorded")
    ranking_note = serializers.CharField(required=False, help_text="When not rankable: what is missing, in words")
    interval_note = serializers.CharField(required=False, help_text="When the model version has no ensemble")


# --- the data dictionary ---


class CodeOut(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    snomed = serializers.CharField(allow_null=True)


class TitreOut(serializers.Serializer):
    unit = serializers.CharField()
    loinc = serializers.CharField()
    positive = serializers.CharField()


class VariableOut(PayloadOut):
    name = serializers.CharField()
    label = serializers.CharField()
    type = _choice([str(k) for k in Kind])
    unit = serializers.CharField(help_text="UCUM unit of stored values")
    origin = serializers.CharField(help_text="measured (posted) or derived (computed from the record; never posted)")
    group = serializers.CharField()
    diseases = serializers.ListField(child=serializers.ChoiceField(choices=Disease.choices))
    loinc = serializers.CharField(allow_null=True)
    snomed = serializers.CharField(allow_null=True)
    model_feature = serializers.BooleanField()
    persistence = serializers.CharField()
    valid_for_days = serializers.IntegerField(required=False, allow_null=True)
    validity_source = serializers.CharField(required=False)
    lasting_values = serializers.ListField(child=ScalarField(), required=False)
    minimum = serializers.FloatField(required=False, allow_null=True)
    maximum = serializers.FloatField(required=False, allow_null=True)
    step = serializers.FloatField(required=False, allow_null=True)
    accepted_units = serializers.ListField(child=serializers.CharField(), required=False)
    allowed_values = serializers.ListField(child=serializers.FloatField(), required=False)
    other_loinc = serializers.ListField(child=serializers.CharField(), required=False)
    titre = TitreOut(required=False)
    reference_high_variable = serializers.CharField(required=False)
    check_label = serializers.CharField(required=False)
    codes = CodeOut(many=True, required=False)
    help = serializers.CharField(required=False)


class CatalogueDrugOut(serializers.Serializer):
    atc = serializers.CharField()
    name = serializers.CharField()
    class_label = serializers.CharField()
    diseases = serializers.ListField(child=serializers.ChoiceField(choices=Disease.choices))
    biologic = serializers.BooleanField()
    high_efficacy = serializers.BooleanField()
    pre_2024_atc = serializers.ListField(child=serializers.CharField())

    def get_fields(self):
        fields = super().get_fields()
        fields["class"] = serializers.CharField()  # a Python keyword
        return fields


class DiseaseOut(serializers.Serializer):
    code = serializers.ChoiceField(choices=Disease.choices)
    label = serializers.CharField()
    icd10 = serializers.ListField(child=serializers.CharField())
    snomed = serializers.ListField(child=serializers.CharField())


class SourceOut(serializers.Serializer):
    document = serializers.CharField()
    section = serializers.CharField()
    verified = _choice(list(LEVELS))
    checked_in = serializers.CharField(allow_null=True)
    text = serializers.CharField()


class RuleDrugOut(serializers.Serializer):
    atc = serializers.CharField()
    name = serializers.CharField()
    source = SourceOut()


class SafetyRuleOut(serializers.Serializer):
    code = serializers.CharField()
    topic = serializers.CharField()
    severity = _choice(SEVERITIES)
    message = serializers.CharField()
    condition = serializers.CharField()
    variables = serializers.ListField(child=serializers.CharField())
    drugs = RuleDrugOut(many=True)


class IndicationOut(serializers.Serializer):
    atc = serializers.CharField()
    drug = serializers.CharField()
    in_catalogue = serializers.BooleanField()
    disease = serializers.ChoiceField(choices=Disease.choices)
    disease_label = serializers.CharField()
    label = serializers.CharField()
    requires = serializers.ListField(child=serializers.CharField())
    line = serializers.CharField(allow_blank=True)
    line_checked = serializers.BooleanField()
    combination = serializers.CharField(allow_blank=True)
    source = SourceOut()


class PolicyOut(serializers.Serializer):
    unknown = serializers.CharField()
    childbearing_age = serializers.CharField()
    levels = serializers.DictField(child=serializers.CharField())


class NotExpressedOut(serializers.Serializer):
    drugs = serializers.CharField()
    section = serializers.CharField()
    what = serializers.CharField()


class DocumentOut(serializers.Serializer):
    atc = serializers.CharField()
    drug = serializers.CharField()
    document = serializers.CharField()


class DictionaryOut(serializers.Serializer):
    variables = VariableOut(many=True)
    drugs = CatalogueDrugOut(many=True)
    diseases = DiseaseOut(many=True)
    policy = PolicyOut()
    safety_rules = SafetyRuleOut(many=True)
    indications = IndicationOut(many=True)
    not_expressed = NotExpressedOut(many=True, help_text="SmPC statements no rule expresses yet")
    documents = DocumentOut(many=True)


# --- imports ---


class ImportProgressOut(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField(allow_null=True, help_text="null while the file is being read")


class ImportVisitsOut(serializers.Serializer):
    stored = serializers.IntegerField()
    already_stored = serializers.IntegerField()
    rejected = serializers.IntegerField()
    scored_latest = serializers.IntegerField()


class ImportOut(serializers.Serializer):
    id = serializers.UUIDField()
    status = _choice(ImportStatus.values)
    format = _choice(ImportFormat.values)
    progress = ImportProgressOut()
    visits = ImportVisitsOut()
    reason = serializers.CharField(allow_blank=True)
    status_url = serializers.CharField()
    report_url = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


render_recommendation = projector(RecommendationOut())
