"""Text from one party placed into another's format."""

from __future__ import annotations

import re

# CommonMark lets any ASCII punctuation be escaped with a backslash (spec 0.31, section 2.4).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&])")


def markdown_escape(text: str) -> str:
    """text shown literally inside markdown (a CDS Hooks card): no emphasis, link, HTML or list it could start."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
