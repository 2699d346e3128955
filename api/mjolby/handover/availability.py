"""Can citizens chat with a person now? Chat mode, opening hours, staff online, queue and wait.

Plain synchronous functions taking the session as `db` (the routers run them
in a worker thread); each says whether it commits.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mjolby.errors import InvalidInput
from mjolby.handover import texts
from mjolby.handover.changes import Changed
from mjolby.handover.models import CaseStatus, HandoverCase, ServiceSetting
from mjolby.hours import ServiceHours, format_clock
from mjolby.staff import service as staff_service
from mjolby.staff.service import StaffContext

CHAT_MODE_KEY = "chat_mode"
CHAT_MODES = ("auto", "open", "closed")
# Without history the estimate assumes this much: a person notices a new case
# within two minutes and a chat takes about six.
DEFAULT_PICKUP_SECONDS = 120.0
DEFAULT_HANDLING_SECONDS = 360.0
ESTIMATE_SAMPLE = 20
ESTIMATE_HISTORY = timedelta(days=30)

@dataclass(frozen=True)
class QueueInfo:
    position: int
    estimated_wait_minutes: int

    def as_dict(self) -> dict[str, int]:
        return {"position": self.position, "estimated_wait_minutes": self.estimated_wait_minutes}


@dataclass(frozen=True)
class ServiceStatus:
    open_now: bool
    opens_next: datetime | None
    closes_at: datetime | None
    staff_online: int
    queue_length: int
    estimated_wait_minutes: int
    chat_available: bool
    chat_mode: str
    text_phone: str
    text_reception: str
    text_chat: str


def chat_mode(*, db: Session) -> str:
    value = db.scalar(select(ServiceSetting.value).where(ServiceSetting.key == CHAT_MODE_KEY))
    return value if value in CHAT_MODES else "auto"


def set_chat_mode(*, db: Session, mode: str, staff: StaffContext, now: datetime) -> Changed:
    """auto: follow the opening hours; open: open now whatever the hours; closed: closed now. Commits."""
    if mode not in CHAT_MODES:
        raise InvalidInput("Välj auto, open eller closed.", "bad_chat_mode")
    setting = db.get(ServiceSetting, CHAT_MODE_KEY)
    if setting is None:
        db.add(ServiceSetting(key=CHAT_MODE_KEY, value=mode, updated_at=now, updated_by=staff.email))
    else:
        setting.value, setting.updated_at, setting.updated_by = mode, now, staff.email
    staff_service.audit(db=db, staff=staff, action="set_chat_mode", now=now, detail=mode)
    db.commit()
    changed = Changed()
    changed.queue()
    return changed


def _queue_length(db: Session) -> int:
    return db.scalar(
        select(func.count()).select_from(HandoverCase).where(HandoverCase.status == CaseStatus.QUEUED.value)
    ) or 0


def chat_available(db: Session, hours: ServiceHours, now: datetime) -> tuple[bool, str, bool, int]:
    mode = chat_mode(db=db)
    open_now = hours.status("phone", now).open_now
    online = staff_service.staff_online(db=db, now=now)
    hours_allow = mode == "open" or (mode == "auto" and open_now)
    return hours_allow and online > 0, mode, open_now, online


def service_status(*, db: Session, hours: ServiceHours, now: datetime) -> ServiceStatus:
    """Everything the bot needs to offer a handover or answer "har ni öppet?". Commits (read only)."""
    available, mode, _, online = chat_available(db, hours, now)
    waiting = _queue_length(db)
    estimate = estimate_wait_minutes(db=db, position=waiting + 1, staff_online=online, now=now)
    db.commit()
    phone = hours.status("phone", now)
    if available:
        text_chat = texts.CHAT_OPEN
    elif phone.open_now and mode == "closed":
        text_chat = texts.CHAT_PAUSED_PHONE_OPEN.format(phone=texts.PHONE, closes=format_clock(phone.closes_at))
    elif phone.open_now and mode == "auto":
        text_chat = texts.NOBODY_ONLINE_PHONE_OPEN.format(phone=texts.PHONE, closes=format_clock(phone.closes_at))
    else:
        when = hours.opens_again("phone", now)
        text_chat = texts.CHAT_CLOSED_UNTIL.format(when=when) if when else texts.UNAVAILABLE
    return ServiceStatus(
        open_now=phone.open_now,
        opens_next=phone.opens_next,
        closes_at=phone.closes_at,
        staff_online=online,
        queue_length=waiting,
        estimated_wait_minutes=estimate,
        chat_available=available,
        chat_mode=mode,
        text_phone=hours.describe("phone", now),
        text_reception=hours.describe("reception", now),
        text_chat=text_chat,
    )


def estimate_wait_minutes(*, db: Session, position: int, staff_online: int, now: datetime) -> int:
    """Minutes until a person answers the case at `position`, from recent cases.

    The time it took to pick up recent cases (median), plus the median length
    of recent chats for everyone ahead, shared by the staff online.
    """
    since = now - ESTIMATE_HISTORY
    claimed = db.execute(
        select(HandoverCase.created_at, HandoverCase.claimed_at, HandoverCase.ended_at)
        .where(HandoverCase.claimed_at.is_not(None), HandoverCase.claimed_at >= since)
        .order_by(HandoverCase.claimed_at.desc())
        .limit(ESTIMATE_SAMPLE)
    ).all()
    pickups = [(c - q).total_seconds() for q, c, _ in claimed]
    handled = [(e - c).total_seconds() for _, c, e in claimed if e is not None]
    pickup = statistics.median(pickups) if pickups else DEFAULT_PICKUP_SECONDS
    handling = statistics.median(handled) if handled else DEFAULT_HANDLING_SECONDS
    ahead = max(position - 1, 0)
    seconds = pickup + ahead * handling / max(staff_online, 1)
    return max(1, math.floor(seconds / 60 + 0.5))  # to the nearest minute, at least one


def queue_info(*, db: Session, conversation_id: str, now: datetime) -> QueueInfo | None:
    """The conversation's place in the queue and expected wait, if it is queued. Does not commit."""
    case_id = db.scalar(
        select(HandoverCase.id).where(
            HandoverCase.conversation_id == conversation_id, HandoverCase.status == CaseStatus.QUEUED.value
        )
    )
    if case_id is None:
        return None
    position = db.scalar(
        select(func.count()).select_from(HandoverCase).where(
            HandoverCase.status == CaseStatus.QUEUED.value, HandoverCase.id <= case_id
        )
    ) or 1
    online = staff_service.staff_online(db=db, now=now)
    return QueueInfo(position, estimate_wait_minutes(db=db, position=position, staff_online=online, now=now))


def current_queue(*, db: Session, conversation_id: str, now: datetime) -> dict[str, int] | None:
    """queue_info as the chat API's optional `queue` field. Commits (read only)."""
    info = queue_info(db=db, conversation_id=conversation_id, now=now)
    db.commit()
    return info.as_dict() if info else None
