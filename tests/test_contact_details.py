"""Every contact detail comes from knowledge/organisation.yml, and nowhere else.

A phone number or mailbox copied into code or a page goes stale without
anyone noticing when the number changes. This scans every tracked file
outside knowledge/ (the source), tests/ (which assert on the numbers) and the
files generated from knowledge/, for the phone number in any spelling and for
every e-mail address organisation.yml lists; and checks that the widget's
pages, filled in at build time, carry the details from the file.
"""
from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
ORGANISATION = yaml.safe_load((REPO / "knowledge/organisation.yml").read_text(encoding="utf-8"))
EXCLUDED_PREFIXES = ("knowledge/", "tests/", "bot/data/")
GENERATED = {"bot/actions/catalogue.json", "bot/domain/generated.yml"}


def phone_pattern(number: str) -> re.Pattern[str]:
    """The number with any separators or none, nationally (0...) or as +46..."""
    digits = re.sub(r"\D", "", number)
    assert digits.startswith("0"), number
    rest = r"[\s\-./]?".join(digits[1:])
    return re.compile(rf"(?:\+\s?46\s?(?:\(0\))?|\b0)[\s\-./]?{rest}(?!\d)")


def addresses() -> set[str]:
    found = {ORGANISATION["email"], ORGANISATION["medborgarservice_email"]}
    found |= {m["address"] for m in ORGANISATION["function_mailboxes"]}
    return {a.lower() for a in found}


def scanned_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, text=True, check=True).stdout.splitlines()
    return [REPO / name for name in sorted(set(listed))
            if not name.startswith(EXCLUDED_PREFIXES) and name not in GENERATED
            and (REPO / name).is_file()]


def test_the_patterns_find_every_spelling() -> None:
    pattern = phone_pattern(ORGANISATION["phone"])
    for spelling in ["010-234 50 00", "010-2345000", "0102345000", "+46102345000", "+46 10 234 50 00",
                     "010 234 50 00", "tel:+46102345000"]:
        assert pattern.search(spelling), spelling
    for other in ["010-234 52 20", "0142-850 00", "1010234500012"]:
        assert not pattern.search(other), other


def test_no_copy_of_the_phone_number_or_mailboxes_outside_organisation_yml() -> None:
    phone = phone_pattern(ORGANISATION["phone"])
    mailboxes = addresses()
    copies = []
    for path in scanned_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            lowered = line.lower()
            if phone.search(line) or any(address in lowered for address in mailboxes):
                copies.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:120]}")
    assert copies == [], "contact details copied outside knowledge/organisation.yml:\n" + "\n".join(copies)


def test_the_widget_pages_are_filled_in_from_organisation_yml(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("widget_build", REPO / "widget" / "build.py")
    build = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(build)
    build.build(tmp_path)
    for page in ("om-chatten.html", "tillganglighet.html"):
        html = (tmp_path / page).read_text(encoding="utf-8")
        assert f'<a href="{ORGANISATION["phone_href"]}">{ORGANISATION["phone"]}</a>' in html, page
        assert f'href="mailto:{ORGANISATION["email"]}"' in html, page
        assert "{{" not in html, page
    script = (tmp_path / "widget.js").read_text(encoding="ascii")
    assert f'"{ORGANISATION["phone"]}"' in script and f'"{ORGANISATION["phone_href"]}"' in script
