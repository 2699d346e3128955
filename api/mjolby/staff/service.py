"""Staff accounts, sessions, presence and the audit log.

Plain synchronous functions taking the session as `db`, like the
conversations service; the routers run them in a worker thread.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mjolby.db import utcnow
from mjolby.staff.models import AuditEntry, Role, StaffSession, StaffUser

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
# A signed-in console counts as "online" this long after its last sign of life
# (the console's live stream touches the session every PRESENCE_TOUCH_SECONDS).
PRESENCE_SECONDS = 90
PRESENCE_TOUCH_SECONDS = 30
FAILED_LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILED_LOGINS = 10
AGENT_ROLES = (Role.AGENT.value, Role.ADMIN.value)

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both cases take as long.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class StaffError(ValueError):
    """A staff account could not be created or changed; the message is Swedish."""


@dataclass(frozen=True)
class StaffContext:
    """The signed-in staff member of a request."""

    staff_id: int
    email: str
    display_name: str
    role: str
    csrf_token: str
    token_hash: str

    @property
    def public_name(self) -> str:
        return self.display_name or "en medarbetare på Medborgarservice"

    @property
    def can_handle_cases(self) -> bool:
        return self.role in AGENT_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"Lösenordet måste ha minst {MIN_PASSWORD_LENGTH} tecken.")
    if password.strip() != password or len(set(password)) < 5:
        raise StaffError("Välj ett lösenord som är svårare att gissa.")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(*, db: Session, email: str, password: str, role: Role | str,
                display_name: str = "", now: datetime | None = None) -> StaffUser:
    """Create a staff account. Commits."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise StaffError("Ange en giltig e-postadress.")
    check_password_strength(password)
    user = StaffUser(
        email=email, display_name=display_name.strip()[:80], password_hash=hash_password(password),
        role=Role(role).value, active=True, created_at=now or utcnow(),
    )
    db.add(user)
    try:
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        raise StaffError("Det finns redan ett konto med den e-postadressen.") from exc
    return user


def set_password(*, db: Session, email: str, password: str) -> None:
    """Change a password and sign the account out everywhere. Commits."""
    check_password_strength(password)
    user = db.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))
    if user is None:
        db.rollback()
        raise StaffError("Kontot finns inte.")
    user.password_hash = hash_password(password)
    db.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))
    db.commit()


def ensure_first_admin(*, db: Session, email: str | None, password: str | None) -> StaffUser | None:
    """Create the first admin from the environment when there is no admin yet. Commits.

    Never invents a password: without both values nothing is created.
    """
    if not email or not password:
        db.rollback()
        return None
    exists = db.scalar(select(func.count()).select_from(StaffUser).where(StaffUser.role == Role.ADMIN.value))
    if exists:
        db.rollback()
        return None
    try:
        user = create_user(db=db, email=email, password=password, role=Role.ADMIN, display_name="")
    except StaffError as exc:
        logger.error("The first admin from STAFF_ADMIN_EMAIL was not created: %s", exc)
        return None
    logger.info("Created the first staff admin account from the environment")
    return user


def list_users(*, db: Session) -> list[StaffUser]:
    users = list(db.scalars(select(StaffUser).order_by(StaffUser.email)))
    db.commit()
    return users


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def recent_failed_logins(*, db: Session, email: str, now: datetime) -> int:
    return db.scalar(
        select(func.count()).select_from(AuditEntry).where(
            AuditEntry.staff_email == normalise_email(email)[:254],
            AuditEntry.action == "sign_in_failed",
            AuditEntry.created_at >= now - FAILED_LOGIN_WINDOW,
        )
    ) or 0


def authenticate(*, db: Session, email: str, password: str, now: datetime) -> StaffUser | None:
    """The active account with this e-mail and password, or None. Records the attempt. Commits."""
    email = normalise_email(email)
    user = db.scalar(select(StaffUser).where(StaffUser.email == email))
    valid = False
    try:
        valid = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        valid = False
    if not (valid and user is not None and user.active):
        db.add(AuditEntry(staff_id=user.id if user else None, staff_email=email[:254],
                          action="sign_in_failed", created_at=now))
        db.commit()
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    db.add(AuditEntry(staff_id=user.id, staff_email=user.email, action="sign_in", created_at=now))
    db.commit()
    return user


def start_session(*, db: Session, user: StaffUser, now: datetime, hours: float) -> tuple[str, str]:
    """A new session for the user: (cookie token, CSRF token). Commits."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    db.add(StaffSession(token_hash=token_hash(token), staff_id=user.id, csrf_token=csrf,
                        created_at=now, last_seen_at=now, expires_at=now + timedelta(hours=hours)))
    # Old sessions of anyone are removed here rather than by a scheduler.
    db.execute(delete(StaffSession).where(StaffSession.expires_at < now))
    db.commit()
    return token, csrf


def load_session(*, db: Session, token: str, now: datetime) -> StaffContext | None:
    """The signed-in staff member of a cookie token, or None. Commits."""
    hashed = token_hash(token)
    row = db.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.staff_id)
        .where(StaffSession.token_hash == hashed)
    ).first()
    if row is None:
        db.commit()
        return None
    session, user = row
    if session.expires_at <= now or not user.active:
        db.execute(delete(StaffSession).where(StaffSession.token_hash == hashed))
        db.commit()
        return None
    if (now - session.last_seen_at).total_seconds() >= PRESENCE_TOUCH_SECONDS:
        db.execute(update(StaffSession).where(StaffSession.token_hash == hashed).values(last_seen_at=now))
    db.commit()
    return StaffContext(staff_id=user.id, email=user.email, display_name=user.display_name,
                        role=user.role, csrf_token=session.csrf_token, token_hash=hashed)


def touch_session(*, db: Session, hashed: str, now: datetime) -> None:
    """Keep a console that is open (live stream connected) counted as online. Commits."""
    db.execute(update(StaffSession).where(StaffSession.token_hash == hashed).values(last_seen_at=now))
    db.commit()


def end_session(*, db: Session, hashed: str) -> None:
    db.execute(delete(StaffSession).where(StaffSession.token_hash == hashed))
    db.commit()


def staff_online(*, db: Session, now: datetime) -> int:
    """Staff who can take cases and have a console open (or used the API) just now. Does not commit."""
    return db.scalar(
        select(func.count(func.distinct(StaffSession.staff_id)))
        .join(StaffUser, StaffUser.id == StaffSession.staff_id)
        .where(
            StaffSession.last_seen_at >= now - timedelta(seconds=PRESENCE_SECONDS),
            StaffSession.expires_at > now,
            StaffUser.active.is_(True),
            StaffUser.role.in_(AGENT_ROLES),
        )
    ) or 0


def audit(*, db: Session, staff: StaffContext, action: str, now: datetime,
          case_id: int | None = None, contact_request_id: int | None = None,
          conversation_id: str | None = None, detail: str | None = None) -> None:
    """Add an audit entry. Does not commit (it belongs to the action's transaction)."""
    db.add(AuditEntry(staff_id=staff.staff_id, staff_email=staff.email, action=action,
                      case_id=case_id, contact_request_id=contact_request_id,
                      conversation_id=conversation_id, detail=detail, created_at=now))


def list_audit(*, db: Session, limit: int = 200, case_id: int | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if case_id is not None:
        query = query.where(AuditEntry.case_id == case_id)
    entries = list(db.scalars(query))
    db.commit()
    return entries
