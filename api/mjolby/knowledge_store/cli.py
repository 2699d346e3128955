"""`make knowledge-export`: write the knowledge store back to a knowledge folder.

    python -m mjolby.knowledge_store.cli export [--to DIR]   (default: knowledge/ of the repository)
    python -m mjolby.knowledge_store.cli import               (what the API does when it starts)

The export writes every topic edited in the console as its file, adds topics
created in the console to topics.yml, and leaves the other files as they were
imported. Review it with `git diff`, run `make validate`, and commit.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mjolby.config import Settings
from mjolby.db import Database
from mjolby.knowledge_store import service
from mjolby.knowledge_store.rules import KnowledgeError
from mjolby.migrate import upgrade_head


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mjolby.knowledge_store.cli",
                                     description="Kunskapslagret: exportera till eller importera från en kunskapsmapp.")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="skriv lagret som en kunskapsmapp")
    export.add_argument("--to", type=Path, default=None, help="mappen att skriva (standard: knowledge/)")
    commands.add_parser("import", help="läs in kunskapsmappen i lagret")
    args = parser.parse_args(argv)

    settings = Settings()
    upgrade_head(settings.database_url)
    database = Database(settings.database_url)
    try:
        with database.session() as db:
            if args.command == "export":
                target = (args.to or settings.knowledge_dir).resolve()
                service.export_knowledge(db, target)
                print(f"Kunskapslagret är skrivet till {target}. Granska med git diff och kör make validate.")
            else:
                result = service.import_knowledge(db, settings.knowledge_dir)
                print(f"Inläst: {result.inserted} nya, {result.updated} uppdaterade, "
                      f"{result.kept} ändrade i konsolen behölls.")
    except KnowledgeError as exc:
        print(f"Kunskapsmappen har {len(exc.problems)} fel; kör make validate.", file=sys.stderr)
        return 1
    finally:
        database.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
