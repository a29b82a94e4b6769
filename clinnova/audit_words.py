"""The audit trail in words: each action as a privacy officer reads it, and its details formatted.

Actions are plain strings written by every layer (services name their own);
their words are listed here, in the core, so the trail reads the same whoever
wrote the event. An action missing from the list is shown as its code.
"""

from __future__ import annotations

ACTION_WORDS: dict[str, str] = {
    "patient_view": "Viewed a patient's record",
    "patient_read": "EHR read a patient (API)",
    "visit_create": "Recorded a visit",
    "visit_amend": "Amended a visit",
    "recommendation_read": "Read a ranking (EHR door)",
    "decision_record": "Recorded a decision",
    "summary_print": "Opened a printable summary",
    "access_refused": "Access refused",
    "sign_in": "Signed in",
    "sign_in_failed": "Sign-in failed",
    "sign_in_locked_out": "Sign-in locked out",
    "sign_out": "Signed out",
    "session_expired": "Session ended by the server",
    "otp_enrol": "Set up two-step sign-in",
    "otp_verify": "Gave a two-step code",
    "otp_failed": "Wrong two-step code",
    "audit_read": "Searched the audit trail",
    "audit_export": "Exported the audit trail",
    "model_upload": "Uploaded a model version",
    "model_activate": "Activated a model version",
    "model_rollback": "Rolled back to a model version",
    "ehr_client_create": "Created an EHR client",
    "ehr_token_rotate": "Replaced an EHR client's token",
    "ehr_token_revoke": "Revoked an EHR client's token",
    "cds_client_register": "Registered a CDS Hooks client",
    "cds_client_keys_replace": "Replaced a CDS Hooks client's keys",
    "cds_feedback": "CDS Hooks card feedback",
}

DETAIL_WORDS: dict[str, str] = {
    "page": "Page", "kind": "Decision", "drug_atc": "Drug (ATC)", "was_top": "Top suggestion",
    "reason": "Reason", "review_on": "Review on", "recommendation": "Ranking", "visit": "Visit",
    "model_version": "Model version", "version": "Version", "previous": "Previous version", "disease": "Disease",
    "status": "Status", "sha256": "SHA-256", "username": "Name tried", "address": "Address", "step": "Step",
    "patient": "Patient", "user": "User", "from": "From", "to": "To", "worse_on": "Worse on",
    "activation_reason": "Reason given", "top_changes": "Top suggestions that change",
}
VALUE_WORDS: dict[str, dict[str, str]] = {
    "page": {"detail": "patient page", "compare": "compare two drugs", "visit_form": "new visit form",
             "decision_form": "decision form, refused", "summary": "printable summary"},
    "kind": {"continue": "continue", "optimise": "escalate or optimise the dose", "defer": "defer",
             "start_ranked": "start a ranked drug", "start_other": "start a drug not in the ranking"},
    "reason": {"absolute_lifetime": "session older than its lifetime"},
    "step": {"enrol": "setting up", "verify": "sign-in"},
}
# Internal keys a privacy officer does not need to read (they stay in the CSV export).
HIDDEN = frozenset({"sha256"})


def action_words(action: str) -> str:
    return ACTION_WORDS.get(action, action)


def detail_items(detail: dict) -> list[tuple[str, str]]:
    """The event's details as (label, value) pairs in words, empty values left out."""
    items = []
    for key, value in (detail or {}).items():
        if value in ("", None, []) or key in HIDDEN:
            continue
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        else:
            text = VALUE_WORDS.get(key, {}).get(str(value), str(value))
        items.append((DETAIL_WORDS.get(key, key.replace("_", " ").capitalize()), text))
    return items
