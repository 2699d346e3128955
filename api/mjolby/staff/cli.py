"""Staff accounts from the command line.

    python -m mjolby.staff.cli create-admin --email anna@mjolby.se [--name Anna]
    python -m mjolby.staff.cli create-user --email bo@mjolby.se --role agent [--name Bo]
    python -m mjolby.staff.cli set-password --email bo@mjolby.se
    python -m mjolby.staff.cli list

The password is asked for twice without echo, or read from one line of
standard input with --password-stdin (for scripts). There is no default
password. Runs the database migrations first, like the API does.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

from mjolby.config import Settings
from mjolby.db import Database
from mjolby.errors import DomainError
from mjolby.migrate import upgrade_head
from mjolby.staff import service
from mjolby.staff.models import Role


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass("Lösenord (minst 12 tecken): ")
    second = getpass.getpass("Samma lösenord igen: ")
    if first != second:
        raise service.StaffError("Lösenorden var inte lika.")
    return first


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mjolby.staff.cli", description="Personalkonton för chattkonsolen.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("create-admin", "skapa en administratör"), ("create-user", "skapa ett konto")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--email", required=True)
        sub.add_argument("--name", default="", help="förnamnet medborgaren ser")
        sub.add_argument("--password-stdin", action="store_true", help="läs lösenordet från stdin")
        if name == "create-user":
            sub.add_argument("--role", choices=[r.value for r in Role], default=Role.AGENT.value)
    reset = commands.add_parser("set-password", help="byt lösenord (loggar ut kontot överallt)")
    reset.add_argument("--email", required=True)
    reset.add_argument("--password-stdin", action="store_true")
    commands.add_parser("list", help="lista kontona")
    args = parser.parse_args(argv)

    settings = Settings()
    upgrade_head(settings.database_url)
    database = Database(settings.database_url)
    try:
        with database.session() as db:
            if args.command == "list":
                for user in service.list_users(db=db):
                    print(f"{user.email}\t{user.role}\t{user.display_name or '-'}\t{'aktiv' if user.active else 'avstängd'}")
                return 0
            password = _password(args)
            if args.command == "set-password":
                service.set_password(db=db, email=args.email, password=password)
                print(f"Lösenordet är bytt för {args.email}.")
                return 0
            role = Role.ADMIN if args.command == "create-admin" else Role(args.role)
            user = service.create_user(db=db, email=args.email, password=password, role=role, display_name=args.name)
            print(f"Kontot {user.email} ({user.role}) är skapat.")
            return 0
    except DomainError as exc:
        print(f"Fel: {exc}", file=sys.stderr)
        return 1
    finally:
        database.dispose()


if __name__ == "__main__":
    sys.exit(main())
