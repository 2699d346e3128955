"""Retention for the handover: what identifies a citizen goes after RETENTION_DAYS."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from mjolby.handover.models import OPEN_STATUSES, CaseForward, CaseNote, ContactRequest, HandoverCase

@dataclass(frozen=True)
class HandoverPurge:
    cases: int = 0  # ended cases reduced to statistics
    notes: int = 0
    forwards: int = 0
    contact_requests: int = 0


def purge_handover_records(*, db: Session, now: datetime, days: int, dry_run: bool = False) -> HandoverPurge:
    """Remove what identifies a citizen from the handover past the retention period. Commits.

    A case ended before the cutoff, or whose conversation is gone, loses its
    notes and forwards (they hold what staff wrote about the citizen), its
    link to the conversation and the name staff showed; status, reason,
    topic, outcome, rating and timestamps stay as statistics. A contact
    request is deleted once it was handled, or if still open, created, before
    the cutoff.
    """
    cutoff = now - timedelta(days=days)
    has_notes = select(CaseNote.id).where(CaseNote.case_id == HandoverCase.id).exists()
    has_forwards = select(CaseForward.id).where(CaseForward.case_id == HandoverCase.id).exists()
    case_ids = list(db.scalars(
        select(HandoverCase.id).where(
            HandoverCase.status.not_in(OPEN_STATUSES),
            or_(HandoverCase.ended_at < cutoff, HandoverCase.conversation_id.is_(None),
                and_(HandoverCase.ended_at.is_(None), HandoverCase.created_at < cutoff)),
            or_(HandoverCase.conversation_id.is_not(None), HandoverCase.agent_name.is_not(None),
                has_notes, has_forwards),
        )
    ))
    old_contacts = func.coalesce(ContactRequest.handled_at, ContactRequest.created_at) < cutoff
    notes = forwards = contacts = 0
    for ids in (case_ids[i:i + 500] for i in range(0, len(case_ids), 500)):
        if dry_run:
            notes += db.scalar(select(func.count()).select_from(CaseNote).where(CaseNote.case_id.in_(ids))) or 0
            forwards += db.scalar(
                select(func.count()).select_from(CaseForward).where(CaseForward.case_id.in_(ids))) or 0
            continue
        notes += db.execute(delete(CaseNote).where(CaseNote.case_id.in_(ids))).rowcount or 0
        forwards += db.execute(delete(CaseForward).where(CaseForward.case_id.in_(ids))).rowcount or 0
        db.execute(update(HandoverCase).where(HandoverCase.id.in_(ids))
                   .values(conversation_id=None, agent_name=None)
                   .execution_options(synchronize_session=False))
        db.commit()
    if dry_run:
        contacts = db.scalar(select(func.count()).select_from(ContactRequest).where(old_contacts)) or 0
        db.rollback()
    else:
        contacts = db.execute(delete(ContactRequest).where(old_contacts)).rowcount or 0
        db.commit()
    return HandoverPurge(cases=len(case_ids), notes=notes, forwards=forwards, contact_requests=contacts)
