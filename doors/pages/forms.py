"""Forms of the clinician pages.

The visit form is generated from the data dictionary: one field per measured
variable of the patient's disease, with its unit, range and codes. It parses
what the browser sends (numbers, codes, yes/no); whether a value is allowed is
the dictionary's call, made once in visit_ingest, and its errors are put back
next to the fields they name.
"""

from __future__ import annotations

import uuid

from django import forms
from django.utils import timezone

from patients import dictionary, scores
from patients.dictionary import DictionaryError, Disease, Kind, Origin, Variable
from patients.drugs import BY_ATC, DRUGS
from patients.models import Outcome, TherapyExposure
from patients.services import ACTIVITY_SCORES
from patients.state import PatientState, StateValue, Status
from patients.therapies import TherapyInput
from patients.variables import Persistence
from recommendations.decisions import DecisionInput
from recommendations.models import DecisionKind, OverrideReason

GROUPS = (
    ("activity", "Disease activity"),
    ("labs", "Laboratory"),
    ("patient", "Patient"),
    ("phenotype", "Phenotype"),
    ("safety", "Safety screening"),
)
YES_NO = [("", "Not recorded"), ("yes", "Yes"), ("no", "No")]
# Derived scores that have no field of their own (EDSS is entered, not derived).
LIVE_SCORES = {disease: [s for s in names if s not in dictionary.BY_NAME] for disease, names in ACTIVITY_SCORES.items()}
# SDAI is computed for every RA visit but is not a headline score: the form shows it live too.
LIVE_SCORES[Disease.RHEUMATOID_ARTHRITIS] = [*LIVE_SCORES[Disease.RHEUMATOID_ARTHRITIS], "sdai"]
SCORE_LABELS = {"das28_esr": "DAS28-ESR", "das28_crp": "DAS28-CRP", "cdai": "CDAI", "sdai": "SDAI",
                "hbi": "Harvey-Bradshaw Index", "partial_mayo": "Partial Mayo score", "full_mayo": "Mayo score"}
# Which fields each live score reads: the page ties each <output> to its inputs with for="...".
SCORE_INPUTS = {
    "das28_esr": ("tender_joint_count_28", "swollen_joint_count_28", "esr", "patient_global"),
    "das28_crp": ("tender_joint_count_28", "swollen_joint_count_28", "crp", "patient_global"),
    "cdai": ("tender_joint_count_28", "swollen_joint_count_28", "patient_global", "evaluator_global"),
    "sdai": ("tender_joint_count_28", "swollen_joint_count_28", "patient_global", "evaluator_global", "crp"),
    "hbi": ("hbi_general_wellbeing", "hbi_abdominal_pain", "hbi_liquid_stools", "hbi_abdominal_mass",
            "hbi_complications"),
    "partial_mayo": ("mayo_stool_frequency", "mayo_rectal_bleeding", "mayo_physician_global"),
    "full_mayo": ("mayo_stool_frequency", "mayo_rectal_bleeding", "mayo_physician_global", "mayo_endoscopic"),
}


PERSISTENT = (Persistence.FACT, Persistence.CONDITION)


def _initial(var: Variable, value):
    if var.kind == Kind.BOOLEAN:
        return "yes" if value else "no"
    return value


def _joined(*parts: str) -> str:
    return " · ".join(p for p in parts if p)


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _unit(var: Variable) -> str:
    if var.kind not in (Kind.QUANTITY, Kind.INTEGER) or var.unit in ("1", "{score}", "{count}"):
        return ""
    return {"{pack-years}": "pack-years", "{index_val}": "index"}.get(var.unit, var.display_unit)


def _in_words(message: str, var: Variable) -> str:
    """A dictionary message with the unit as the form's label writes it (µg/g, per day), not in UCUM."""
    if var.kind in (Kind.QUANTITY, Kind.INTEGER) and var.unit not in ("1", "{score}", "{count}"):
        return message.replace(f" {var.unit}", f" {_unit(var)}")
    return message


def _field_for(var: Variable) -> forms.Field:
    help_parts = []
    if var.kind in (Kind.QUANTITY, Kind.INTEGER):
        unit = _unit(var)
        help_parts.append(f"{_num(var.minimum)} to {_num(var.maximum)}" + (f" {unit}" if unit else "")
                          + (f", in steps of {_num(var.step)}" if var.step in (0.5, 0.125) else ""))
    if var.help:
        help_parts.append(var.help)
    common = {"label": var.label, "required": False, "help_text": " · ".join(help_parts)}
    if var.kind == Kind.BOOLEAN:
        return forms.ChoiceField(choices=YES_NO, **common)
    if var.kind == Kind.CODE:
        return forms.ChoiceField(choices=[("", "Not recorded")] + [(c.code, c.label) for c in var.codes], **common)
    if var.kind == Kind.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date", "max": timezone.localdate().isoformat()},
                                                      format="%Y-%m-%d"), **common)
    attrs = {"min": _num(var.minimum), "max": _num(var.maximum), "inputmode": "decimal"}
    if var.kind == Kind.INTEGER:
        attrs.update(step="1", inputmode="numeric")
        return forms.IntegerField(widget=forms.NumberInput(attrs=attrs), **common)
    # Only scales with a grid (EDSS in 0.5, HAQ-DI in 0.125) get a step: the dictionary enforces no other.
    attrs["step"] = _num(var.step) if var.step in (0.5, 0.125) else "any"
    return forms.FloatField(widget=forms.NumberInput(attrs=attrs), **common)


class VisitForm(forms.Form):
    """A new visit, starting from the patient's state.

    Facts and conditions are pre-filled with what is known and say since when; a value left as it was is
    not recorded again (its date keeps meaning "last established"), unless a condition is ticked as
    confirmed today. Measurements start empty. A drug started here asks what happens to each current one.
    """

    # ISO format: the only one a browser's date input reads, whatever the page's locale.
    visit_date = forms.DateField(label="Visit date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, disease: str, state: PatientState | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.disease = disease
        self.state = state
        self.variables = [v for v in dictionary.variables_for(disease, origin=Origin.MEASURED) if self._asked(v)]
        today = timezone.localdate()
        self.fields["visit_date"].initial = today
        self.fields["visit_date"].widget.attrs["max"] = today.isoformat()
        self.known: dict[str, StateValue] = {}
        for var in self.variables:
            field = self.fields[var.name] = _field_for(var)
            known = state.values.get(var.name) if state else None
            if known is None or var.persistence not in PERSISTENT or known.status == Status.UNKNOWN:
                continue
            self.known[var.name] = known
            if known.status == Status.CURRENT:
                field.initial = _initial(var, known.value)
                field.help_text = _joined(f"Unchanged since {known.recorded_on:%-d %b %Y}: change it, or leave it",
                                          field.help_text)
                if var.persistence == Persistence.CONDITION:
                    self.fields[f"confirm_{var.name}"] = forms.BooleanField(
                        label=f"{var.label}: confirmed today", required=False)
            else:
                field.help_text = _joined(f"Last recorded {var.format(known.value)} on {known.recorded_on:%-d %b %Y}, "
                                          f"expired on {known.expires_on:%-d %b %Y}: record it again", field.help_text)
        self.lines = state.current_therapies if state else []
        self._therapy_fields()

    def _asked(self, var: Variable) -> bool:
        # Fields that cannot apply are not asked: pregnancy for a male patient.
        return not (var.name == "pregnancy_status" and self.state and self.state.patient.sex == "male")

    def _therapy_fields(self) -> None:
        drugs_ = sorted(DRUGS, key=lambda d: (self.disease not in d.diseases, d.name))
        self.fields["start_drug"] = forms.ChoiceField(
            label="Start a drug", required=False,
            choices=[("", "No new drug")] + [(d.atc, f"{d.name} ({d.class_label})") for d in drugs_])
        self.fields["start_date"] = forms.DateField(label="Start date", required=False,
                                                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                                    help_text="Default: the visit date")
        self.fields["start_dose"] = forms.CharField(label="Dose", required=False, max_length=100,
                                                    help_text="e.g. 5 mg/kg at weeks 0, 2, 6")
        for line in self.lines:
            key = f"line_{line.pk}"
            self.fields[key] = forms.ChoiceField(
                label=f"{line.drug.name} (since {line.started_on:%-d %b %Y})", required=False,
                choices=[("", "—"), ("continues", "Continues"), ("stops", "Stops")])
            self.fields[f"{key}_stop"] = forms.DateField(label="Stopped on", required=False,
                                                         widget=forms.DateInput(attrs={"type": "date"},
                                                                                format="%Y-%m-%d"))
            self.fields[f"{key}_reason"] = forms.ChoiceField(
                label="Stop reason", required=False,
                choices=[("", "—")] + [c for c in Outcome.choices if c[0] != Outcome.ONGOING])
            self.fields[f"{key}_detail"] = forms.CharField(label="Adverse event or detail", required=False,
                                                           max_length=300)

    def groups(self) -> list[tuple[str, list]]:
        """Fieldsets in a clinician's reading order: (bound field, dictionary variable, unit shown, confirm field)."""
        out = []
        for key, title in GROUPS:
            fields = [(self[var.name], var, _unit(var),
                       self[f"confirm_{var.name}"] if f"confirm_{var.name}" in self.fields else None)
                      for var in self.variables if var.group == key]
            if fields:
                out.append((title, fields))
        return out

    def therapy_lines(self) -> list[dict]:
        return [{"line": line, "choice": self[f"line_{line.pk}"], "stop": self[f"line_{line.pk}_stop"],
                 "reason": self[f"line_{line.pk}_reason"], "detail": self[f"line_{line.pk}_detail"]}
                for line in self.lines]

    def clean(self):
        data = super().clean()
        starting = data.get("start_drug")
        for line in self.lines:
            key = f"line_{line.pk}"
            choice = data.get(key)
            if choice == "stops":
                if not data.get(f"{key}_stop"):
                    self.add_error(f"{key}_stop", f"Say when {line.drug.name} stopped.")
                if not data.get(f"{key}_reason"):
                    self.add_error(f"{key}_reason", f"Say why {line.drug.name} stopped (or “reason not recorded”).")
            elif not choice and starting and starting != line.drug_atc:
                self.add_error(key, f"{line.drug.name} is current: does it continue with "
                                    f"{BY_ATC[starting].name}, or stop (and when)?")
            if starting == line.drug_atc:
                self.add_error("start_drug", f"{line.drug.name} is already current (since "
                                             f"{line.started_on:%-d %b %Y}).")
        return data

    def measurements(self) -> dict:
        """The entered values keyed by dictionary name, blanks left out (valid form only).

        A fact or condition left as the state had it is not recorded again, unless confirmed today.
        """
        out = {}
        for var in self.variables:
            value = self.cleaned_data.get(var.name)
            if value in (None, ""):
                continue
            if var.kind == Kind.BOOLEAN:
                value = value == "yes"
            elif var.kind == Kind.DATE:
                value = value.isoformat()
            known = self.known.get(var.name)
            unchanged = known is not None and known.status == Status.CURRENT and known.value == value
            if unchanged and not self.cleaned_data.get(f"confirm_{var.name}"):
                continue
            out[var.name] = value
        return out

    def therapies(self) -> list[tuple[str, TherapyInput]]:
        """(form field, therapy input) for the drug started and the current drugs that stop."""
        visit_date = self.cleaned_data["visit_date"]
        out = []
        for line in self.lines:
            key = f"line_{line.pk}"
            if self.cleaned_data.get(key) == "stops":
                out.append((f"{key}_stop", TherapyInput(
                    drug=line.drug_atc, started_on=line.started_on, stopped_on=self.cleaned_data[f"{key}_stop"],
                    outcome=self.cleaned_data[f"{key}_reason"], stop_detail=self.cleaned_data[f"{key}_detail"])))
        if self.cleaned_data.get("start_drug"):
            out.append(("start_date", TherapyInput(drug=self.cleaned_data["start_drug"],
                                                   started_on=self.cleaned_data.get("start_date") or visit_date,
                                                   dose=self.cleaned_data.get("start_dose") or "")))
        return out

    def add_dictionary_errors(self, exc: DictionaryError, *, therapy_fields: list[str] = ()) -> None:
        """Each dictionary error next to its field: 'measurements.crp' on crp, 'date' on the visit date,
        'therapies[0].stop' on the field of the therapy it names."""
        for error in exc.errors:
            name = error.field.removeprefix("measurements.")
            if name == "date":
                self.add_error("visit_date", f"The visit date {error.message}.")
            elif name in self.fields:
                self.add_error(name, f"{dictionary.label(name)} {_in_words(error.message, dictionary.BY_NAME[name])}.")
            elif name.startswith("therapies[") and therapy_fields:
                index = int(name[len("therapies["):name.index("]")])
                what = name.split(".", 1)[1] if "." in name else "drug"
                self.add_error(therapy_fields[index], f"The therapy's {what} {error.message}.")
            else:
                self.add_error(None, f"{error.field} {error.message}.")

    def live_scores(self) -> list[dict]:
        """The derived scores of the disease, with the value the entered data give (on a re-shown form)."""
        values = {}
        if self.is_bound:
            for var in self.variables:
                raw = self.data.get(var.name, "")
                try:
                    values[var.name] = float(raw) if var.kind in (Kind.QUANTITY, Kind.INTEGER) and raw != "" else None
                except ValueError:
                    values[var.name] = None
        derived = scores.derived_scores(values)
        out = []
        for name in LIVE_SCORES[self.disease]:
            s = derived.get(name)
            out.append({"name": name, "label": s.label if s else SCORE_LABELS[name],
                        "value": f"{s.value:g}" if s else "", "category": s.category_label if s else "",
                        "inputs": " ".join(f"id_{f}" for f in SCORE_INPUTS[name])})
        return out


class DecisionForm(forms.Form):
    """What the clinician decided: one radio group ("choice") over every decision the visit allows.

    Nothing is pre-selected, so no decision is recorded by a single click on the
    submit button. Values: "continue:<ATC>" and "optimise:<ATC>" for each current
    therapy, "start:<ATC>" for each ranked drug, "other" (a catalogue drug outside
    the ranking, chosen in other_drug) and "defer" (with review_on). Whether the
    choice fits the recommendation is decision_record's call.
    """

    recommendation = forms.IntegerField(widget=forms.HiddenInput,
                                        error_messages={"required": "The ranking this decision is for is missing; "
                                                                    "reload the page."})
    # A new key each time the form is shown: the same submission posted twice stores one decision.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput,
                                      error_messages={"required": "This form is incomplete; reload the page.",
                                                      "invalid": "This form is incomplete; reload the page."})
    choice = forms.CharField(label="Your decision", max_length=40,
                             error_messages={"required": "Choose what you decided."})
    other_drug = forms.ChoiceField(label="Drug not in the ranking", required=False)
    review_on = forms.DateField(label="Decide again on", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                error_messages={"invalid": "Give the review date as a date, e.g. 2027-01-15."})
    reason = forms.ChoiceField(label="Reason", required=False,
                               choices=[("", "No reason needed")] + OverrideReason.choices,
                               help_text="Needed when you start a drug behind the first tier (behind the top "
                                         "suggestion where there is one), or a drug not in the ranking.")
    reason_text = forms.CharField(label="Details", required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text="Required when the reason is “Other”. For a dose change, say which.")

    def __init__(self, *args, recommendation: dict | None, current: list[TherapyExposure] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.ranked = (recommendation or {}).get("drugs", [])
        self.current = list(current)
        ranked_atc = {d["atc"] for d in self.ranked}
        self.fields["other_drug"].choices = [("", "Choose a drug")] + [
            (d.atc, f"{d.name} ({d.class_label})") for d in sorted(DRUGS, key=lambda d: d.name)
            if d.atc not in ranked_atc]
        if not self.is_bound:
            self.fields["recommendation"].initial = (recommendation or {}).get("id")
            self.fields["idempotency_key"].initial = uuid.uuid4()

    def choice_groups(self) -> list[tuple[str, list[dict]]]:
        """The radio buttons of the choice, grouped as a clinician thinks of them; none checked until chosen."""
        chosen = self["choice"].value() or ""
        current = [(f"{kind}:{t.drug_atc}", f"{verb} {t.drug.name}", f"on it since {t.started_on:%-d %b %Y}")
                   for t in self.current
                   for kind, verb in (("continue", "Continue"), ("optimise", "Escalate or optimise the dose of"))]
        # A drug the patient is on is continued or optimised, not started.
        ranked = [(f"start:{d['atc']}", f"Start {d['name']}", self._ranked_note(d)) for d in self.ranked
                  if not d.get("current")]
        other = [("other", "Start a drug not in the ranking", "choose it below; a reason is needed"),
                 ("defer", "Defer the decision", "give the date you will decide below")]
        groups = [("Current therapy", current), ("Start a ranked drug", ranked), ("Something else", other)]
        return [(title, [{"value": v, "label": label, "note": note, "id": f"choice-{v.replace(':', '-')}",
                          "checked": v == chosen} for v, label, note in items])
                for title, items in groups if items]

    @staticmethod
    def _ranked_note(d: dict) -> str:
        parts = [f"{d['probability'] * 100:.0f} %"]
        if d.get("top_suggestion"):
            parts.append("top suggestion")
        if d["contraindicated"]:
            parts.append("contraindicated")
        elif d.get("group") == "not_licensed":
            parts.append("not licensed")
        if d.get("check_before_starting"):
            parts.append("check before starting")
        return " · ".join(parts)

    def decision_input(self) -> DecisionInput:
        """The submission as the decision service reads it (valid form only)."""
        choice = self.cleaned_data["choice"]
        action, _, atc = choice.partition(":")
        kind = {"continue": DecisionKind.CONTINUE, "optimise": DecisionKind.OPTIMISE, "start": DecisionKind.START_RANKED,
                "other": DecisionKind.START_OTHER, "defer": DecisionKind.DEFER}.get(action, "")
        if kind == DecisionKind.START_OTHER:
            atc = self.cleaned_data["other_drug"]
        return DecisionInput(
            recommendation_id=self.cleaned_data["recommendation"], kind=kind,
            idempotency_key=self.cleaned_data["idempotency_key"], drug_atc=atc,
            review_on=self.cleaned_data["review_on"] if kind == DecisionKind.DEFER else None,
            reason=self.cleaned_data["reason"], reason_text=self.cleaned_data["reason_text"],
        )
