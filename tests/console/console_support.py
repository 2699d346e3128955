"""Shared names of the console's browser tests."""
from __future__ import annotations

import json

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AGENT, ADMIN = "anna@mjolby.se", "chef@mjolby.se"


def assert_no_axe_violations(page, state: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    violations = results.response["violations"]
    lines = [f"- {v['id']}: {v['help']} at {json.dumps([n['target'] for n in v['nodes'][:3]])}" for v in violations]
    assert not violations, f"axe found {len(violations)} violation(s) on {state}:\n" + "\n".join(lines)
