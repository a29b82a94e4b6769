"""The manifest of a model package: what it must say, checked key by key.

manifest_problem() checks the shape (types, ranges, required keys) and
manifest_model_problem() checks the names against this Clinnova's data
dictionary and drug catalogue. Both answer with a sentence naming the key or
value at fault, so the person who built the package knows what to fix.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from patients import dictionary
from patients.dictionary import Disease
from patients.drugs import BY_ATC, PRE_2024_CODES
from recommendations.recalibration import recalibration_problem

FORMAT_VERSION = 1

OUTCOMES: dict[str, str] = {
    Disease.CROHNS_DISEASE: "Clinical remission (Harvey-Bradshaw Index < 5) at week 26.",
    Disease.ULCERATIVE_COLITIS: "Clinical remission by partial Mayo score at week 26.",
    Disease.RHEUMATOID_ARTHRITIS: "EULAR good response at month 6 (DAS28 improvement > 1.2 and DAS28 ≤ 3.2).",
    Disease.MULTIPLE_SCLEROSIS: ("NEDA-3 at 24 months: no relapse, no confirmed EDSS worsening and no new "
                                 "MRI activity."),
}
# Mitchell et al., "Model Cards for Model Reporting", FAT* 2019.
MODEL_CARD_SECTIONS = ("model_details", "intended_use", "factors", "metrics", "evaluation_data",
                       "training_data", "ethical_considerations", "caveats_and_recommendations")
COLUMN_LAYOUT = ("One row per candidate drug: the manifest features in order (data dictionary encoding, "
                 "NaN when missing), then one 0/1 indicator column per manifest drug in order.")


# --- the manifest schema -----------------------------------------------------

# An HTML tag or comment, a markdown link or image, a script URL, or a control character other than a line break.
MARKUP = re.compile(r"<[A-Za-z/!?]|\]\(|javascript:|data:text|[\x00-\x09\x0b-\x1f\x7f]", re.IGNORECASE)
NUMBER, PROBABILITY, COUNT, TEXT, TIMESTAMP = "number", "probability", "count", "text", "timestamp"
# A block checked by its own function once the rest of the manifest fits (it needs manifest.drugs).
OWN_CHECK = "own check"
METRIC_SPLIT = {"auc": PROBABILITY, "brier": PROBABILITY, "n": COUNT}
MANIFEST_SCHEMA: dict[str, Any] = {
    "format_version": COUNT,
    "disease": TEXT,
    "outcome": TEXT,
    "features": [TEXT],
    "drugs": [TEXT],
    "column_layout": TEXT,
    "xgboost_version": TEXT,
    "training_data": {"description": TEXT, "n_patients": COUNT, "n_rows": COUNT, "seed": COUNT, "synthetic": bool},
    "metrics": {
        "test": {"auc": PROBABILITY, "brier": PROBABILITY, "calibration_slope": NUMBER,
                 "calibration_intercept": NUMBER, "n": COUNT},
        "per_drug": ("mapping", {"auc": (PROBABILITY, None), "brier": PROBABILITY, "n": COUNT}),
        "validation": METRIC_SPLIT,
        "best_iteration": COUNT,
    },
    "intended_use": TEXT,
    "caveats": [TEXT],
    "model_card": {section: TEXT for section in MODEL_CARD_SECTIONS},
    "created_at": TIMESTAMP,
    # Optional (packages before intervals have none): the bootstrap ensemble stored beside the booster.
    # Its "recalibration" (optional, packages before it have none): one block or null per member, in member order.
    "ensemble": {"members": COUNT, "method": TEXT, "interval_level": PROBABILITY, "tier_confidence": PROBABILITY,
                 "recalibration": OWN_CHECK},
    # Optional (packages before it have none): per-drug logistic recalibration (recommendations.recalibration).
    "recalibration": OWN_CHECK,
}
OPTIONAL_KEYS = {"manifest.ensemble", "manifest.recalibration", "manifest.ensemble.recalibration"}


def manifest_problem(manifest: Any) -> str | None:
    """The first way the manifest breaks the schema, as a sentence naming the key; None if it fits.

    Keys starting with "x_" are extensions and are allowed anywhere.
    """
    problem = _problem(manifest, MANIFEST_SCHEMA, "manifest")
    if problem:
        return problem
    if manifest["format_version"] != FORMAT_VERSION:
        return f"format_version {manifest['format_version']} is not supported (this Clinnova reads {FORMAT_VERSION})"
    for key in ("features", "drugs"):
        if not manifest[key]:
            return f"manifest.{key} must not be empty"
        seen = {v for v in manifest[key] if manifest[key].count(v) > 1}
        if seen:
            return f"manifest.{key} lists {sorted(seen)[0]!r} more than once"
    extra = sorted(set(manifest["metrics"]["per_drug"]) - set(manifest["drugs"]))
    if extra:
        return f"manifest.metrics.per_drug.{extra[0]} is not one of manifest.drugs"
    if "recalibration" in manifest:
        if problem := recalibration_problem(manifest["recalibration"], manifest["drugs"]):
            return problem
    if "recalibration" in manifest.get("ensemble", {}):
        return _member_recalibration_problem(manifest["ensemble"], manifest["drugs"])
    return None


def _member_recalibration_problem(ensemble: dict, drugs: list[str]) -> str | None:
    blocks, path = ensemble["recalibration"], "manifest.ensemble.recalibration"
    if not isinstance(blocks, list):
        return f"{path} must be a list with one block (or null) per member, got {manifest_kind(blocks)}"
    if len(blocks) != ensemble["members"]:
        return f"{path} holds {len(blocks)} blocks for {ensemble['members']} members (manifest.ensemble.members)"
    return next((p for k, block in enumerate(blocks)
                 if block is not None and (p := recalibration_problem(block, drugs, path=f"{path}[{k}]"))), None)


def _problem(value: Any, spec: Any, path: str) -> str | None:
    if spec == OWN_CHECK:
        return None
    if isinstance(spec, tuple) and spec[0] == "mapping":
        if not isinstance(value, dict):
            return f"{path} must be an object, got {manifest_kind(value)}"
        return next((p for k, v in value.items() if (p := _problem(v, spec[1], f"{path}.{k}"))), None)
    if isinstance(spec, tuple):  # alternatives, None meaning null is allowed
        if value is None and None in spec:
            return None
        return _problem(value, spec[0], path)
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return f"{path} must be an object, got {manifest_kind(value)}"
        for key in spec:
            if key not in value and f"{path}.{key}" not in OPTIONAL_KEYS:
                return f"{path}.{key} is missing"
        for key in value:
            if key not in spec and not str(key).startswith("x_"):
                return f"{path}.{key} is not a known key (extensions must start with 'x_')"
        return next((p for k, s in spec.items() if k in value and (p := _problem(value[k], s, f"{path}.{k}"))),
                    None)
    if isinstance(spec, list):
        if not isinstance(value, list):
            return f"{path} must be a list, got {manifest_kind(value)}"
        return next((p for i, v in enumerate(value) if (p := _problem(v, spec[0], f"{path}[{i}]"))), None)
    return _scalar_problem(value, spec, path)


def _scalar_problem(value: Any, spec: Any, path: str) -> str | None:
    if spec is bool:
        return None if isinstance(value, bool) else f"{path} must be true or false, got {manifest_kind(value)}"
    if spec in (TEXT, TIMESTAMP):
        if not isinstance(value, str) or not value.strip():
            return f"{path} must be a non-empty string, got {manifest_kind(value)}"
        if found := MARKUP.search(value):
            # Manifest texts reach CDS Hooks cards (markdown), FHIR and pages: plain text only, so no consumer
            # that renders markup can be made to run or link anything ("< 5" and "> 1.2" stay fine).
            return f"{path} holds {found.group(0)[:20]!r}; manifest texts are plain text (no markup or control " \
                   "characters)"
        if spec == TIMESTAMP:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return f"{path} must be an ISO 8601 date-time, got {value!r}"
            if moment.tzinfo is None:
                return f"{path} must carry a time zone, got {value!r}"
        return None
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if spec == COUNT:
        if not (is_number and float(value).is_integer() and value >= 0):
            return f"{path} must be a whole number ≥ 0, got {value!r}"
        return None
    if not is_number:
        return f"{path} must be a number, got {value!r}"
    if spec == PROBABILITY and not 0 <= value <= 1:
        return f"{path} must be between 0 and 1, got {value!r}"
    return None


def manifest_kind(value: Any) -> str:
    """A JSON value's kind in words, for messages."""
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), repr(value))


def manifest_model_problem(manifest: dict) -> tuple[str, str] | None:
    """(check, message) when the disease, a feature or a drug is unknown to this Clinnova; None if all fit."""
    disease = manifest["disease"]
    if disease not in Disease.values:
        return "disease", f"disease {disease!r} is unknown (expected one of {', '.join(Disease.values)})"
    for name in manifest["features"]:
        var = dictionary.BY_NAME.get(name)
        if var is None:
            return "features", f"feature {name!r} is not a variable of the data dictionary"
        if not var.feature:
            return "features", f"feature {name!r} is a safety variable, not a model feature"
        if not var.used_for(disease):
            return "features", f"feature {name!r} is not recorded for {disease}"
    for atc in manifest["drugs"]:
        drug = BY_ATC.get(atc)
        if drug is None:
            hint = f" (use the current code {PRE_2024_CODES[atc]})" if atc in PRE_2024_CODES else ""
            return "drugs", f"drug {atc!r} is not in the drug catalogue{hint}"
        if disease not in drug.diseases:
            return "drugs", f"drug {atc!r} ({drug.name}) is not a candidate for {disease}"
    return None


def manifest_unstorable_text(manifest: dict) -> str:
    """Where the manifest holds text PostgreSQL's jsonb cannot store (NUL, a lone surrogate), in words, or ""."""
    stack: list[tuple[str, object]] = [("", manifest)]
    while stack:
        path, node = stack.pop()
        texts = []
        if isinstance(node, dict):
            texts = [(f"{path}.{k}" if path else str(k), k) for k in node]
            stack += [(f"{path}.{k}" if path else str(k), v) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(f"{path}[{i}]", v) for i, v in enumerate(node)]
        elif isinstance(node, str):
            texts = [(path, node)]
        for where, text in texts:
            if "\x00" in text:
                return f"at {where} holds a NUL character (\\u0000); remove it"
            if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
                return f"at {where} holds a lone UTF-16 surrogate; text must be valid Unicode"
    return ""
