"""Reading a transaction or batch Bundle: its shape, fhir.resources validation and internal references.

Everything here is structural (HTTP 400): whether the Bundle can be read at all, before any code or value
is looked up in the data dictionary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from doors.fhir.errors import FHIRError, Issue

BUNDLE_TYPES = ("transaction", "batch")
SUPPORTED = ("Patient", "Encounter", "Observation", "Condition", "MedicationStatement", "MedicationRequest")
METHODS = ("POST", "PUT")
# Which references each resource must (True) or may (False) make to the Bundle's Patient and Encounter.
REFERENCES: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "Encounter": (("subject", "Patient", False),),
    "Observation": (("subject", "Patient", True), ("encounter", "Encounter", False)),
    "Condition": (("subject", "Patient", True), ("encounter", "Encounter", False)),
    "MedicationStatement": (("subject", "Patient", True), ("context", "Encounter", False)),
    "MedicationRequest": (("subject", "Patient", True), ("encounter", "Encounter", False)),
}


@dataclass(frozen=True)
class Entry:
    index: int
    full_url: str
    resource: dict

    @property
    def type(self) -> str:
        return self.resource["resourceType"]

    @property
    def label(self) -> str:
        """How an OperationOutcome names the entry: index and fullUrl."""
        return f"Bundle.entry[{self.index}]" + (f" (fullUrl {self.full_url})" if self.full_url else "")

    def path(self, element: str = "") -> str:
        return f"Bundle.entry[{self.index}].resource" + (f".{element}" if element else "")

    def issue(self, element: str, message: str, *, code: str = "value") -> Issue:
        return Issue(code=code, diagnostics=message, expression=self.path(element), entry=self.label)


@dataclass(frozen=True)
class ReadBundle:
    kind: str  # transaction or batch
    entries: list[Entry]  # the entries that can be read
    # Batch entries that cannot (an unsupported resource type or method, a reference outside the Bundle): R4 answers
    # each batch entry on its own (http.html#brules), so these get their own error and the rest is stored.
    rejected: dict[int, list[Issue]]
    count: int  # entries in the request: the response has one per request entry

    def of_type(self, resource_type: str) -> list[Entry]:
        return [e for e in self.entries if e.type == resource_type]


def bundle_read(raw: Any) -> ReadBundle:
    """The Bundle's entries once it is known to be a readable transaction or batch; FHIRError(400) otherwise."""
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        found = raw.get("resourceType") if isinstance(raw, dict) else type(raw).__name__
        raise FHIRError(400, [Issue("structure", f"the body must be a FHIR Bundle, not {found!r}", "Bundle")])
    if raw.get("type") not in BUNDLE_TYPES:
        raise FHIRError(400, [Issue("structure", f"Bundle.type is {raw.get('type')!r}: only transaction and "
                                    "batch Bundles are accepted", "Bundle.type")])
    batch = raw["type"] == "batch"
    entries, rejected = _entries_check(raw.get("entry"), batch=batch)
    _structure_validate(raw, skip=set(rejected))
    for index, issues in _references_check(entries, batch=batch).items():
        rejected[index] = issues
    entries = [e for e in entries if e.index not in rejected]
    return ReadBundle(kind=raw["type"], entries=entries, rejected=rejected, count=len(raw["entry"]))


def _entries_check(raw_entries: Any, *, batch: bool) -> tuple[list[Entry], dict[int, list[Issue]]]:
    if not isinstance(raw_entries, list) or not raw_entries:
        raise FHIRError(400, [Issue("required", "the Bundle has no entries", "Bundle.entry")])
    issues: dict[int, list[Issue]] = {}
    entries = []
    for i, raw in enumerate(raw_entries):
        raw = raw if isinstance(raw, dict) else {}
        full_url = raw.get("fullUrl") if isinstance(raw.get("fullUrl"), str) else ""
        label = f"Bundle.entry[{i}]" + (f" (fullUrl {full_url})" if full_url else "")
        resource, request = raw.get("resource"), raw.get("request")
        if not isinstance(resource, dict):
            issues[i] = [Issue("required", "every entry needs a resource", f"Bundle.entry[{i}].resource", label)]
            continue
        if resource.get("resourceType") not in SUPPORTED:
            issues[i] = [Issue("not-supported", f"{resource.get('resourceType')!r} is not read here; a Bundle "
                               f"holds {', '.join(SUPPORTED)}", f"Bundle.entry[{i}].resource", label)]
            continue
        method = request.get("method") if isinstance(request, dict) else None
        if method not in METHODS:
            issues[i] = [Issue("not-supported", f"request.method {method!r}: entries are created with POST "
                               "(or PUT)", f"Bundle.entry[{i}].request.method", label)]
            continue
        entries.append(Entry(i, full_url, resource))
    # The rule that decides whether anything can be stored comes first: a whole record (a history of 39
    # encounters) is told that, not first the hundreds of entries of types that are not read.
    counts = {t: sum(1 for e in entries if e.type == t) for t in ("Patient", "Encounter")}
    shape = [Issue("structure", f"a Bundle is one visit: it needs exactly one {resource_type} (found {n}); send "
                   "a patient's history as one Bundle per Encounter", "Bundle.entry")
             for resource_type, n in counts.items() if n != 1]
    if shape or (issues and not batch):
        raise FHIRError(400, shape + [i for index in sorted(issues) for i in issues[index]])
    return entries, issues


def _structure_validate(raw: dict, *, skip: set[int]) -> None:
    kept = [i for i in range(len(raw["entry"])) if i not in skip]
    try:
        # Batch entries already answered on their own are not validated again.
        Bundle.model_validate({**raw, "entry": [raw["entry"][i] for i in kept]} if skip else raw)
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            loc = list(error["loc"])
            if len(loc) >= 2 and loc[0] == "entry" and isinstance(loc[1], int):
                loc[1] = kept[loc[1]]  # the index in the request, not in the validated copy
            errors.append({**error, "loc": tuple(loc)})
        raise FHIRError(400, [_issue_of(error, raw) for error in errors]) from None
    except (KeyError, TypeError, ValueError) as exc:
        # fhir.resources raises these instead of a ValidationError for some shapes (an unknown contained type).
        raise FHIRError(400, [Issue("structure", f"not a valid FHIR R4 Bundle: {exc}", "Bundle")]) from None


def _issue_of(error: dict, raw: dict) -> Issue:
    """A pydantic error as an Issue whose expression is the FHIRPath of the element."""
    loc = [part for part in error["loc"] if part != "root"]
    expression = "Bundle"
    for part in loc:
        expression += f"[{part}]" if isinstance(part, int) else f".{part}"
    entry = ""
    if len(loc) >= 2 and loc[0] == "entry" and isinstance(loc[1], int):
        full_url = (raw["entry"][loc[1]] or {}).get("fullUrl")
        entry = f"Bundle.entry[{loc[1]}]" + (f" (fullUrl {full_url})" if isinstance(full_url, str) else "")
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "is not an element of this resource in FHIR R4"
    elif isinstance(error.get("input"), (str, int, float, bool)) and len(str(error["input"])) <= 80:
        message += f" (got {error['input']!r})"
    return Issue("structure", message, expression, entry)


def _references_check(entries: list[Entry], *, batch: bool) -> dict[int, list[Issue]]:
    """Issues of entries whose references do not resolve inside the Bundle: raised for a transaction, returned
    for a batch (then only the Patient and Encounter, which the whole visit needs, fail the Bundle)."""
    index: dict[str, Entry] = {}
    for e in entries:
        if e.full_url:
            index[e.full_url] = e
        if isinstance(e.resource.get("id"), str):
            index[f"{e.type}/{e.resource['id']}"] = e
    issues: dict[int, list[Issue]] = {}
    for e in entries:
        for element, target, required in REFERENCES.get(e.type, ()):
            ref = e.resource.get(element)
            reference = ref.get("reference") if isinstance(ref, dict) else None
            if reference is None:
                if required:
                    issues.setdefault(e.index, []).append(e.issue(
                        f"{element}.reference", f"must reference the {target} of this Bundle by its fullUrl or as "
                        f"{target}/<id>", code="required"))
                continue
            found = index.get(reference)
            if found is None or found.type != target:
                issues.setdefault(e.index, []).append(e.issue(
                    f"{element}.reference", f"{reference} is not a {target} in this Bundle: every reference must "
                    "point to an entry of the Bundle (fullUrl or Type/id)", code="not-found"))
    whole = not batch or any(e.index in issues for e in entries if e.type in ("Patient", "Encounter"))
    if issues and whole:
        raise FHIRError(400, [i for index in sorted(issues) for i in issues[index]])
    return issues
