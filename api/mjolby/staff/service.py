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

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mjolby.db import utcnow
from mjolby.errors import NotFound
from mjolby.staff.models import AuditEntry, Role, StaffSession, StaffUser
from mjolby.staff.passwords import (  # noqa: F401 (StaffError and the checks are part of this service)
    DUMMY_HASH,
    StaffError,
    check_password_strength,
    hash_password,
    needs_rehash,
    normalise_email,
    verify_password,
)

logger = logging.getLogger(__name__)

# A signed-in console counts as "online" this long after its last sign of life
# (the console's live stream touches the session every PRESENCE_TOUCH_SECONDS).
PRESENCE_SECONDS = 90
PRESENCE_TOUCH_SECONDS = 30
AGENT_ROLES = (Role.AGENT.value, Role.ADMIN.value)
INSIGHT_ROLES = (Role.ADMIN.value, Role.LEAD.value)
# How often a session's idle deadline moves forward while it is used.
IDLE_EXTEND_SECONDS = 30

LAST_ADMIN = "Det måste finnas minst en aktiv administratör. Utse en ny administratör först."
NO_SUCH_ACCOUNT = "Kontot finns inte."



def _no_such_account() -> NotFound:
    return NotFound(NO_SUCH_ACCOUNT, "account_not_found")


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

    @property
    def can_see_insight(self) -> bool:
        return self.role in INSIGHT_ROLES


def create_user(*, db: Session, email: str, password: str, role: Role | str,
                display_name: str = "", now: datetime | None = None) -> StaffUser:
    """Create a staff account. Commits."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise StaffError("Ange en giltig e-postadress.")
    check_password_strength(password, email)
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
    user = db.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))
    if user is None:
        db.rollback()
        raise _no_such_account()
    _set_password(db, user, password)
    db.commit()


def _set_password(db: Session, user: StaffUser, password: str) -> None:
    """A strong enough new password; every session of the account ends."""
    try:
        check_password_strength(password, user.email)
    except StaffError:
        db.rollback()
        raise
    user.password_hash = hash_password(password)
    revoke_sessions(db=db, staff_id=user.id)


def revoke_sessions(*, db: Session, staff_id: int) -> None:
    """Sign an account out everywhere. Does not commit."""
    db.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))


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


def create_account(*, db: Session, admin: StaffContext, email: str, password: str, role: Role | str,
                   display_name: str, now: datetime) -> StaffUser:
    """An admin creates a staff account. Audited. Commits."""
    user = create_user(db=db, email=email, password=password, role=role, display_name=display_name, now=now)
    audit(db=db, staff=admin, action="create_staff", now=now, detail=f"{user.email} ({user.role})")
    db.commit()
    return user


def list_users(*, db: Session) -> list[StaffUser]:
    users = list(db.scalars(select(StaffUser).order_by(StaffUser.email)))
    db.commit()
    return users


def get_user(*, db: Session, user_id: int) -> StaffUser:
    user = db.get(StaffUser, user_id)
    db.commit()
    if user is None:
        raise _no_such_account()
    return user


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(*, db: Session, email: str, password: str, now: datetime) -> StaffUser | None:
    """The active account with this e-mail and password, or None. Records the attempt. Commits."""
    email = normalise_email(email)
    user = db.scalar(select(StaffUser).where(StaffUser.email == email))
    stored = user.password_hash if user else DUMMY_HASH
    user_id, active = (user.id, user.active) if user else (None, False)
    db.rollback()  # no transaction stays open during the slow check
    valid = verify_password(stored, password)
    user = db.get(StaffUser, user_id) if valid and active and user_id is not None else None
    if user is None or not user.active:
        db.add(AuditEntry(staff_id=user_id, staff_email=email[:254], action="sign_in_failed", created_at=now))
        db.commit()
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    db.add(AuditEntry(staff_id=user.id, staff_email=user.email, action="sign_in", created_at=now))
    db.commit()
    return user


def _deadline(*, created_at: datetime, now: datetime, hours: float, idle_minutes: float) -> datetime:
    """A session ends after `idle_minutes` without use, and `hours` after sign-in at the latest."""
    return min(created_at + timedelta(hours=hours), now + timedelta(minutes=idle_minutes))


def start_session(*, db: Session, user: StaffUser, now: datetime, hours: float,
                  idle_minutes: float) -> tuple[str, str]:
    """A new session for the user: (cookie token, CSRF token). Commits.

    `expires_at` is the idle deadline; every use moves it forward (see
    load_session) up to `hours` after sign-in."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = _deadline(created_at=now, now=now, hours=hours, idle_minutes=idle_minutes)
    db.add(StaffSession(token_hash=token_hash(token), staff_id=user.id, csrf_token=csrf,
                        created_at=now, last_seen_at=now, expires_at=expires))
    # Old sessions of anyone are removed here rather than by a scheduler.
    db.execute(delete(StaffSession).where(StaffSession.expires_at < now))
    db.commit()
    return token, csrf


def load_session(*, db: Session, token: str, now: datetime, hours: float | None = None,
                 idle_minutes: float | None = None) -> StaffContext | None:
    """The signed-in staff member of a cookie token, or None. Commits.

    With `hours` and `idle_minutes` the request counts as use and moves the idle
    deadline forward; without (live streams, the console's own refreshes) it
    does not, so an unattended console still times out."""
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
    values: dict[str, datetime] = {}
    if (now - session.last_seen_at).total_seconds() >= PRESENCE_TOUCH_SECONDS:
        values["last_seen_at"] = now
    if hours is not None and idle_minutes is not None:
        deadline = _deadline(created_at=session.created_at, now=now, hours=hours, idle_minutes=idle_minutes)
        if (deadline - session.expires_at).total_seconds() >= IDLE_EXTEND_SECONDS:
            values["expires_at"] = deadline
    if values:
        db.execute(update(StaffSession).where(StaffSession.token_hash == hashed).values(**values))
    db.commit()
    return StaffContext(staff_id=user.id, email=user.email, display_name=user.display_name,
                        role=user.role, csrf_token=session.csrf_token, token_hash=hashed)


def touch_session(*, db: Session, hashed: str, now: datetime) -> None:
    """Keep a console that is open (live stream connected) counted as online. Commits."""
    db.execute(update(StaffSession).where(StaffSession.token_hash == hashed).values(last_seen_at=now))
    db.commit()


def session_valid(*, db: Session, hashed: str, now: datetime) -> bool:
    """Whether a live stream's session still holds: not signed out, expired, idle or
    deactivated. Does not count as use. Commits."""
    row = db.execute(
        select(StaffSession.expires_at, StaffUser.active)
        .join(StaffUser, StaffUser.id == StaffSession.staff_id)
        .where(StaffSession.token_hash == hashed)
    ).first()
    db.commit()
    return row is not None and row.expires_at > now and bool(row.active)


# -- account lifecycle (admins) ------------------------------------------------
def _other_active_admins(db: Session, user: StaffUser) -> int:
    return db.scalar(select(func.count()).select_from(StaffUser).where(
        StaffUser.role == Role.ADMIN.value, StaffUser.active.is_(True), StaffUser.id != user.id)) or 0


def _change_account(db: Session, user_id: int) -> StaffUser:
    user = db.scalar(select(StaffUser).where(StaffUser.id == user_id).with_for_update())
    if user is None:
        db.rollback()
        raise _no_such_account()
    return user


def set_active(*, db: Session, admin: StaffContext, user_id: int, active: bool, now: datetime) -> StaffUser:
    """Deactivate (or reactivate) an account; it is signed out everywhere. Audited. Commits."""
    user = _change_account(db, user_id)
    if not active and user.role == Role.ADMIN.value and user.active and not _other_active_admins(db, user):
        db.rollback()
        raise StaffError(LAST_ADMIN)
    user.active = active
    revoke_sessions(db=db, staff_id=user.id)
    audit(db=db, staff=admin, action="activate_staff" if active else "deactivate_staff", now=now,
          detail=user.email)
    db.commit()
    return user


def change_role(*, db: Session, admin: StaffContext, user_id: int, role: Role | str, now: datetime) -> StaffUser:
    """Give an account another role; it is signed out everywhere. Audited. Commits."""
    new_role = Role(role).value
    user = _change_account(db, user_id)
    if user.role == Role.ADMIN.value and new_role != Role.ADMIN.value and user.active \
            and not _other_active_admins(db, user):
        db.rollback()
        raise StaffError(LAST_ADMIN)
    old_role, user.role = user.role, new_role
    revoke_sessions(db=db, staff_id=user.id)
    audit(db=db, staff=admin, action="change_role", now=now, detail=f"{user.email}: {old_role} -> {new_role}")
    db.commit()
    return user


def reset_password(*, db: Session, admin: StaffContext, user_id: int, password: str, now: datetime) -> StaffUser:
    """Set a new password for an account; it is signed out everywhere. Audited. Commits."""
    user = _change_account(db, user_id)
    _set_password(db, user, password)
    audit(db=db, staff=admin, action="reset_password", now=now, detail=user.email)
    db.commit()
    return user


def end_session(*, db: Session, hashed: str) -> None:
    db.execute(delete(StaffSession).where(StaffSession.token_hash == hashed))
    db.commit()


def sign_out(*, db: Session, staff: StaffContext, now: datetime) -> None:
    """End the staff member's session. Audited. Commits."""
    audit(db=db, staff=staff, action="sign_out", now=now)
    db.commit()
    end_session(db=db, hashed=staff.token_hash)


def email_of(*, db: Session, staff_id: int) -> str | None:
    """The e-mail address of an account (kept in a case after the account changes). Does not commit."""
    return db.scalar(select(StaffUser.email).where(StaffUser.id == staff_id))


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
