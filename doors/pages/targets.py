"""Activity bands and treatment targets of each disease-activity score, and reference ranges of key labs.

The bands repeat the cut-offs patients/scores.py categorises with (a test keeps
the two in step) and add what a chart needs: the numeric range of each band,
whether it is at target, and the source of each cut-off. The target is the
treat-to-target goal of each disease: remission or low disease activity in
rheumatoid arthritis, clinical remission in Crohn's disease and ulcerative
colitis. The EDSS measures disability, not activity: it has bands but no target.
"""

from __future__ import annotations

from dataclasses import dataclass

from patients.dictionary import Disease


@dataclass(frozen=True)
class Band:
    """A category's range on the chart; integer scores put the edge half-way between two values (HBI 4.5)."""

    label: str  # the category label patients/scores.py gives (the visit stores it)
    lower: float
    upper: float | None  # None: open-ended above
    rule: str  # the cut-off in words: "< 2.6", "2.6–3.2"
    at_target: bool


@dataclass(frozen=True)
class ScoreBands:
    name: str
    label: str
    maximum: float  # the scale's own top, or a round value above the last cut-off for open scales
    bands: tuple[Band, ...]
    target: str  # the target in words, "" when the score has none
    source: str


RA_TARGET = ("Target: remission or low disease activity (EULAR recommendations for the management of RA, "
             "Smolen JS et al., Ann Rheum Dis 2023;82:3–18)")
IBD_TARGET = ("Target: clinical remission (STRIDE-II, Turner D et al., Gastroenterology 2021;160:1570–1583)")


def _das28(name: str, label: str) -> ScoreBands:
    return ScoreBands(name, label, 9.4, (
        Band("Remission", 0, 2.6, "< 2.6", True),
        Band("Low disease activity", 2.6, 3.2, "2.6–3.2", True),
        Band("Moderate disease activity", 3.2, 5.1, "> 3.2–5.1", False),
        Band("High disease activity", 5.1, None, "> 5.1", False),
    ), RA_TARGET, "DAS28 cut-offs: Fransen J, van Riel PLCM, Clin Exp Rheumatol 2005;23(Suppl 39):S93–S99")


SCORE_BANDS: dict[str, ScoreBands] = {
    "das28_esr": _das28("das28_esr", "DAS28-ESR"),
    "das28_crp": _das28("das28_crp", "DAS28-CRP"),
    "cdai": ScoreBands("cdai", "CDAI", 76, (
        Band("Remission", 0, 2.8, "≤ 2.8", True),
        Band("Low disease activity", 2.8, 10, "> 2.8–10", True),
        Band("Moderate disease activity", 10, 22, "> 10–22", False),
        Band("High disease activity", 22, None, "> 22", False),
    ), RA_TARGET, "CDAI cut-offs: Aletaha D, Smolen JS, Clin Exp Rheumatol 2005;23(Suppl 39):S100–S108"),
    "sdai": ScoreBands("sdai", "SDAI", 86, (
        Band("Remission", 0, 3.3, "≤ 3.3", True),
        Band("Low disease activity", 3.3, 11, "> 3.3–11", True),
        Band("Moderate disease activity", 11, 26, "> 11–26", False),
        Band("High disease activity", 26, None, "> 26", False),
    ), RA_TARGET, "SDAI cut-offs: Aletaha D, Smolen JS, Clin Exp Rheumatol 2005;23(Suppl 39):S100–S108"),
    "hbi": ScoreBands("hbi", "Harvey-Bradshaw Index", 30, (
        Band("Remission", 0, 4.5, "< 5", True),
        Band("Mild disease activity", 4.5, 7.5, "5–7", False),
        Band("Moderate disease activity", 7.5, 16.5, "8–16", False),
        Band("Severe disease activity", 16.5, None, "> 16", False),
    ), IBD_TARGET, "HBI cut-offs: Best WR, Inflamm Bowel Dis 2006;12:304–310; Vermeire S et al., "
                   "Clin Gastroenterol Hepatol 2010;8:357–363"),
    "partial_mayo": ScoreBands("partial_mayo", "Partial Mayo score", 9, (
        Band("Remission", 0, 1.5, "0–1", True),
        Band("Mild disease activity", 1.5, 4.5, "2–4", False),
        Band("Moderate disease activity", 4.5, 6.5, "5–6", False),
        Band("Severe disease activity", 6.5, None, "7–9", False),
    ), IBD_TARGET, "Partial Mayo cut-offs: Lewis JD et al., Inflamm Bowel Dis 2008;14:1660–1666"),
    "full_mayo": ScoreBands("full_mayo", "Mayo score", 12, (
        Band("Remission", 0, 2.5, "0–2, no subscore > 1", True),
        Band("Mild disease activity", 2.5, 5.5, "3–5", False),
        Band("Moderate disease activity", 5.5, 10.5, "6–10", False),
        Band("Severe disease activity", 10.5, None, "11–12", False),
    ), IBD_TARGET, "Mayo score: Schroeder KW et al., N Engl J Med 1987;317:1625–1629; remission as 0–2 with no "
                   "subscore above 1 as in the ulcerative colitis trials it defined"),
    "edss": ScoreBands("edss", "EDSS", 10, (
        Band("No or mild disability", 0, 3.75, "0–3.5", False),
        Band("Walking limited", 3.75, 5.75, "4–5.5", False),
        Band("Needs walking aid", 5.75, None, "≥ 6", False),
    ), "", "EDSS steps: Kurtzke JF, Neurology 1983;33:1444–1452 (a disability scale: no activity target)"),
}

# The category labels at the disease's target: what the patient list calls "at target".
TARGET_LABELS: dict[str, frozenset[str]] = {
    Disease.RHEUMATOID_ARTHRITIS: frozenset({"Remission", "Low disease activity"}),
    Disease.CROHNS_DISEASE: frozenset({"Remission"}),
    Disease.ULCERATIVE_COLITIS: frozenset({"Remission"}),
}
# Most active first: how the patient list sorts by activity (labels of every score above).
SEVERITY_ORDER = ("High disease activity", "Severe disease activity", "Moderate disease activity",
                  "Needs walking aid", "Walking limited", "Mild disease activity", "Low disease activity",
                  "No or mild disability", "Remission")


def score_name_of(visit_scores: dict, activity_label: str) -> str | None:
    """Which score a visit's headline activity is (its label may say '(3 variables)'); 'edss' for EDSS."""
    if activity_label == "EDSS":
        return "edss"
    return next((name for name, s in visit_scores.items() if s.get("label") == activity_label), None)


@dataclass(frozen=True)
class LabRange:
    name: str  # dictionary variable
    lower: float | None
    upper: float | None
    text: str
    source: str


# The labs a clinician follows for activity and safety; a variable the dictionary does not (yet) hold is skipped.
LAB_TRENDS = (
    LabRange("crp", None, 5, "Usual upper reference limit 5 mg/L",
             "Common laboratory reference limit; Pepys MB, Hirschfield GM, J Clin Invest 2003;111:1805–1812"),
    LabRange("fecal_calprotectin", None, 250, "Below 250 µg/g suggests endoscopic remission",
             "D'Haens G et al., Inflamm Bowel Dis 2012;18:2218–2224"),
    LabRange("albumin", 35, 50, "Usual reference range 35–50 g/L", "Common laboratory reference range"),
    LabRange("lymphocytes", 1.0, 4.0, "Usual reference range 1.0–4.0 × 10⁹/L", "Common laboratory reference range"),
)
