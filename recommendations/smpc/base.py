"""The types of the SmPC tables: a source (document, section, how far it was checked) and a rule.

Severities, most severe first:
- contraindicated: SmPC 4.3, or a 4.2/4.4 "must not" / "should not be initiated";
- not_licensed: outside the drug's licensed indications (SmPC 4.1, recommendations/licences.py);
- not_recommended: the SmPC's (or guideline's) "not recommended";
- caution: a 4.4 warning to weigh;
- check_before_starting: a screening or value the rule needs is missing or expired (unknown is not safe).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from recommendations.conditions import Condition

CONTRAINDICATED = "contraindicated"
NOT_LICENSED = "not_licensed"
NOT_RECOMMENDED = "not_recommended"
CAUTION = "caution"
CHECK = "check_before_starting"
SEVERITIES = (CONTRAINDICATED, NOT_LICENSED, NOT_RECOMMENDED, CAUTION, CHECK)
SEVERITY_LABELS = {CONTRAINDICATED: "Contraindicated", NOT_LICENSED: "Not licensed", NOT_RECOMMENDED: "Not recommended",
                   CAUTION: "Caution", CHECK: "Check before starting"}

# How far a statement was checked against a stored copy of its source.
VERIFIED, PARTLY, NOT_VERIFIED, PROJECT = "V", "P", "N", "project"
LEVELS = {VERIFIED: "verified", PARTLY: "partly verified", NOT_VERIFIED: "not verified",
          PROJECT: "project choice, no published source"}


def worst_level(levels) -> str:
    """The least checked of several sources' levels (a flag resting on them is as checked as its weakest)."""
    order = list(LEVELS)
    levels = list(levels)
    return max(levels, key=order.index) if levels else ""


@dataclass(frozen=True)
class Source:
    """Where a statement comes from: the drug's own document and section, and how far it was checked."""

    document: str  # "Remicade (infliximab) EU SmPC"
    section: str  # "4.3"
    level: str  # V, P or N
    checked_in: str = ""  # the stored copy it was checked against
    # A drug-specific detail the rule's message names ("{note}"): a contraception period, a delay.
    note: str = ""

    @property
    def text(self) -> str:
        where = f"{self.document}, section {self.section}" if self.section else self.document
        if self.level == VERIFIED:
            return f"{where} (checked against {self.checked_in})" if self.checked_in else where
        if self.level == PROJECT:
            return f"{where} (project choice: no SmPC statement; for pharmacist sign-off)"
        if self.level == PARTLY:
            return f"{where} (partly verified: {self.checked_in})" if self.checked_in else \
                f"{where} (partly verified)"
        return f"{where} (not verified against the current SmPC text)"

    @property
    def short(self) -> str:
        """'SmPC 4.4', or the document when it is not an SmPC."""
        return f"SmPC {self.section}" if "SmPC" in self.document and self.section else self.document

    def as_dict(self) -> dict:
        return {"document": self.document, "section": self.section, "verified": self.level,
                "checked_in": self.checked_in or None, "text": self.text}


@dataclass(frozen=True)
class Rule:
    """One statement of one or more SmPCs, as a condition on the patient's state.

    For contraindications, warnings and "not recommended", `when` true means the statement applies. For a
    check_before_starting rule `when` is the screening requirement: true when satisfied, unknown when not.
    Any rule whose `when` is unknown asks for the missing inputs ("check before starting"), saying `why`.
    `message` and `why` may name {drug} and {note} (the drug's own detail, from its Source).
    """

    code: str
    topic: str
    severity: str
    message: str
    when: Condition
    sources: Mapping[str, Source] = field(default_factory=dict)  # by ATC code: each drug's own document
    why: str = ""
    supersedes: tuple[str, ...] = ()

    def applies_to(self, atc: str) -> bool:
        return atc in self.sources

    def text(self, template: str, *, drug: str, atc: str) -> str:
        source = self.sources.get(atc)
        return _render(template, drug, source.note if source else "")


@lru_cache(maxsize=8192)
def _render(template: str, drug: str, note: str) -> str:
    # Thousands of flags per scoring batch say the same few sentences.
    return " ".join(template.format(drug=drug, note=note).split())


def project_rule(what: str) -> Source:
    """A rule of the project's own, not of a published document: said so wherever it is shown."""
    return Source(f"Clinnova rule: {what}", "", PROJECT)
