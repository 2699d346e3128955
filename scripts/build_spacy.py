"""Build the Swedish spaCy pipeline the bot tokenises and lemmatises with.

No trained Swedish spaCy model can be installed from PyPI, so the pipeline is
built in code: a blank Swedish tokenizer plus the lookup lemmatizer whose
tables come from the spacy-lookups-data package.

Usage: python scripts/build_spacy.py OUTPUT_DIR
"""
from __future__ import annotations

import sys
from pathlib import Path

import spacy


def build(output: Path) -> None:
    nlp = spacy.blank("sv")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.meta["name"] = "mjolby_sv"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Blank Swedish tokenizer with lookup lemmas (spacy-lookups-data)"
    doc = nlp("Jag ansökte om bygglov")
    if doc[1].lemma_ == doc[1].text:
        raise SystemExit("The Swedish lemma tables did not load; is spacy-lookups-data installed?")
    output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    print(f"Swedish spaCy pipeline written to {output}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    build(Path(sys.argv[1]))
