"""Conditions on the person and the therapy record: child-bearing age, and what the therapy lines say (a drug
taken before, for how long, or stopped for primary non-response, an adverse event or a hypersensitivity reaction).
Three-valued like every condition (recommendations/conditions.py)."""

from __future__ import annotations

from dataclasses import dataclass

from patients.models import FAILURE_OUTCOMES, Outcome
from recommendations.conditions import Condition, Facts, Missing

# Words and SNOMED CT codes in a therapy line's stop detail that say the adverse event was a hypersensitivity
# reaction (SNOMED CT 39579001 anaphylaxis, 421961002 hypersensitivity reaction, 419076005 allergic reaction).
HYPERSENSITIVITY_MARKERS = ("hypersensitiv", "anaphyla", "allerg", "angioedema", "angio-oedema", "serum sickness",
                            "stevens-johnson", "epidermal necrolysis", "39579001", "421961002", "419076005")


@dataclass(frozen=True)
class History(Condition):
    """A fact of the therapy lines on the date. An empty therapy record is unknown (history not recorded); a
    recorded history that lacks what is asked is false.

    kind: "taken" (a drug of `atcs` started by the date), "taken_for_days" (one taken for at least `days`),
    "primary_non_response" / "adverse_event" / "hypersensitivity" (a line of `atcs`, by default the candidate
    drug itself, stopped for that reason: what the record says, never unknown).
    """

    kind: str
    label: str
    atcs: frozenset = frozenset()
    days: int = 0

    def evaluate(self, facts: Facts) -> bool | None:
        taken = facts.taken()
        if self.kind in ("taken", "taken_for_days"):
            if not taken:
                return None
            mine = [t for t in taken if t.drug_atc in self.atcs]
            if self.kind == "taken":
                return bool(mine)
            return any(((t.stopped_on if t.stopped_by(facts.on) else facts.on) - t.started_on).days >= self.days
                       for t in mine)
        atcs = self.atcs or ({facts.candidate.atc} if facts.candidate else set())
        lines = [t for t in facts.therapies if t.drug_atc in atcs and t.stopped_by(facts.on)]
        if self.kind == "primary_non_response":
            return any(t.outcome == Outcome.PRIMARY_NON_RESPONSE for t in lines)
        if self.kind == "adverse_event":
            return any(t.outcome == Outcome.ADVERSE_EVENT for t in lines)
        if self.kind == "hypersensitivity":
            return any(t.outcome == Outcome.ADVERSE_EVENT and hypersensitivity_in(t.stop_detail) for t in lines)
        if self.kind == "failed":
            return any(t.outcome in FAILURE_OUTCOMES for t in lines)
        raise ValueError(f"unknown history kind {self.kind}")

    def missing(self, facts: Facts) -> list[Missing]:
        if self.evaluate(facts) is not None:
            return []
        return [Missing(None, "therapy history", "unknown")]

    @property
    def per_drug(self) -> bool:
        return self.kind not in ("taken", "taken_for_days") and not self.atcs

    def describe(self) -> str:
        return self.label


# Child-bearing age: 15–49 years, the "women of reproductive age" of WHO and of UN SDG indicator 3.7.1.
CHILDBEARING_AGE = (15, 49)


@dataclass(frozen=True)
class ChildbearingAge(Condition):
    """A woman who can become pregnant: what the record says (childbearing_potential: no after menopause or
    sterilisation, yes when still fertile at 50 or more), else female and 15–49 years old."""

    def evaluate(self, facts: Facts) -> bool | None:
        sex = facts.get("sex")
        if sex is None:
            return None
        if sex != "female":
            return False
        recorded = facts.get("childbearing_potential")
        if recorded is not None:
            return bool(recorded)
        age = facts.get("age")
        if age is None:
            return None
        return CHILDBEARING_AGE[0] <= age <= CHILDBEARING_AGE[1]

    def missing(self, facts: Facts) -> list[Missing]:
        if self.evaluate(facts) is not None:
            return []
        return [facts.missing("sex" if facts.get("sex") is None else "age")]

    def variables(self) -> tuple[str, ...]:
        return ("sex", "age", "childbearing_potential")

    def describe(self) -> str:
        return (f"a woman of child-bearing age ({CHILDBEARING_AGE[0]}–{CHILDBEARING_AGE[1]} years, WHO; or as "
                "recorded: child-bearing potential)")


def hypersensitivity_in(detail: str) -> bool:
    text = (detail or "").lower()
    return any(marker in text for marker in HYPERSENSITIVITY_MARKERS)
