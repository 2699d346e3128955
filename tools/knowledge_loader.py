"""Load and validate the knowledge folder (`make validate`).

The rules live in api/mjolby/knowledge_store/rules.py, where the editors'
console checks a topic with the same functions before it saves it; this tool
only puts them on the path and runs them.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))
from mjolby.knowledge_store.rules import (  # noqa: E402,F401
    CATALOGUE_FILE,
    KNOWLEDGE_DIR,
    MIN_EXAMPLES,
    NON_TOPIC_FILES,
    REPO,
    TOPIC_KINDS,
    HelperIntent,
    Knowledge,
    KnowledgeError,
    Topic,
    load,
    load_catalogue,
    main,
    normalise_example,
)

if __name__ == "__main__":
    raise SystemExit(main())
