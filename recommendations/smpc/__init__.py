"""What each candidate drug's EU SmPC says, as data a drug-safety pharmacist can review: contraindications,
warnings and pre-treatment screenings (sections 4.2–4.4, 4.6) and licensed indications (section 4.1).

Every row names its document and section and how far it was checked (V verified against a stored copy, P partly,
N not verified: said so wherever it is shown). Rows are keyed by ATC code, so a drug is covered as soon as it
enters the drug catalogue. recommendations/safety.py and recommendations/licences.py evaluate them.
"""

from recommendations.smpc import history, infection, organs, pregnancy
from recommendations.smpc.base import Rule
from recommendations.smpc.indications import INDICATIONS, LICENSED_ATC, Indication

RULES: tuple[Rule, ...] = infection.RULES + organs.RULES + pregnancy.RULES + history.RULES

__all__ = ["INDICATIONS", "LICENSED_ATC", "RULES", "Indication", "Rule"]
