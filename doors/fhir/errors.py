"""OperationOutcome: how the FHIR door says what is wrong, naming entry and element."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    code: str  # http://hl7.org/fhir/issue-type: structure, required, value, code-invalid, not-found, ...
    diagnostics: str
    expression: str = ""  # FHIRPath of the element at fault: "Bundle.entry[2].resource.valueQuantity.code"
    entry: str = ""  # "Bundle.entry[2] (fullUrl urn:uuid:...)" when the issue is about one entry
    severity: str = "error"

    def as_dict(self) -> dict:
        issue: dict = {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics}
        if self.entry:
            issue["details"] = {"text": self.entry}
        if self.expression:
            issue["expression"] = [self.expression]
        return issue


class FHIRError(Exception):
    """Answer with this status and an OperationOutcome of these issues; nothing was stored."""

    def __init__(self, status: int, issues: list[Issue]):
        self.status = status
        self.issues = issues
        super().__init__("; ".join(f"{i.expression or 'request'}: {i.diagnostics}" for i in issues))


def operation_outcome(issues: list[Issue]) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [i.as_dict() for i in issues]}
