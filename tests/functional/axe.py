"""Accessibility checks in browser tests with axe-core (vendored in tests/functional/vendor/, never served by the
app): ``assert_no_serious(page)`` runs every axe rule on the page as it is and fails on any serious or critical
violation, each printed with its rule, impact, help page and the elements that break it.

The app's Content-Security-Policy allows no inline script, so axe is not added as a script tag: its source is
evaluated through the browser's debugging protocol (as Playwright's ``page.evaluate`` does), which the policy does
not govern, and it stays in the page until the next navigation.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

AXE_JS = Path(__file__).with_name("vendor") / "axe.min.js"
SERIOUS = ("serious", "critical")
# WCAG 2.2 A and AA, and axe's best practices (landmarks, one main, a page heading, skip links ...).
RUN_OPTIONS = {"resultTypes": ["violations"],
               "runOnly": {"type": "tag",
                           "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}}


@cache
def _source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def violations(page, impacts: tuple[str, ...] = SERIOUS, exclude: tuple[str, ...] = ()) -> list[dict]:
    """axe's violations on ``page`` of the given impacts; ``exclude`` lists CSS selectors of parts not checked."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(f"() => {{ {_source()}\n}}")  # axe sets window.axe itself
    context = {"exclude": [[selector] for selector in exclude]} if exclude else None
    result = page.evaluate("([context, options]) => axe.run(context || document, options)", [context, RUN_OPTIONS])
    return [v for v in result["violations"] if v["impact"] in impacts]


def describe(found: list[dict]) -> str:
    lines = []
    for violation in found:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:8]:
            lines.append(f"    {' '.join(node['target'])}  {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    ... and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


def assert_no_serious(page, exclude: tuple[str, ...] = ()) -> None:
    """Fail with every serious or critical axe violation on ``page`` listed, each with the elements that break it."""
    found = violations(page, exclude=exclude)
    assert not found, f"axe found serious or critical violations on {page.url}:\n{describe(found)}"
