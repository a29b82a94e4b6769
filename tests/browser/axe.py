"""axe-core in the browser tests: the copy the axe-playwright-python package carries, no CDN."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

SERIOUS = ("serious", "critical")
_axe = Axe()


def serious_violations(page) -> list[str]:
    """Every serious or critical axe-core violation on the page, one line each (WCAG 2.2 A and AA rules)."""
    results = _axe.run(page, options={"resultTypes": ["violations"],
                                      "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a",
                                                                            "wcag21aa", "wcag22aa", "best-practice"]}})
    found = []
    for v in results.response["violations"]:
        if v.get("impact") in SERIOUS:
            targets = ", ".join(" ".join(n["target"]) for n in v["nodes"][:3] if isinstance(n["target"][0], str))
            found.append(f"{v['id']} ({v['impact']}): {v['help']} — {targets}")
    return found


def assert_accessible(page) -> None:
    found = serious_violations(page)
    assert not found, f"{page.url} at {page.viewport_size['width']} px:\n" + "\n".join(found)
