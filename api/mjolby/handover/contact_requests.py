"""Contact requests: a citizen asks to be called or written to (callback, secure contact).

Plain synchronous functions taking the session as `db`; each commits.
"""
from __future__ import annotations

from datetime import datetime

from mjolby_pii import contains_identity_number, is_email, is_phone_number, mask_text
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mjolby.conversations.models import Conversation
from mjolby.conversations.service import ConversationNotFound
from mjolby.errors import Conflict, InvalidInput, NotFound
from mjolby.handover import texts
from mjolby.handover.changes import require_storable
from mjolby.handover.models import ContactReason, ContactRequest, ContactStatus
from mjolby.staff import service as staff_service
from mjolby.staff.service import StaffContext


def create_contact_request(*, db: Session, conversation_id: str | None, name: str,
                           phone: str | None, email: str | None, reason: str,
                           topic: str | None, message: str | None, now: datetime) -> ContactRequest:
    """Store a contact request after checking it carries no identity number. Commits."""
    require_storable(conversation_id, name, phone, email, topic, message)
    reason = ContactReason(reason).value
    name = " ".join((name or "").split())
    phone = (phone or "").strip() or None
    email = (email or "").strip() or None
    for value in (name, phone, email, message):
        if value and contains_identity_number(value):
            raise InvalidInput(texts.CONTACT_HAS_PERSONAL_NUMBER, "personal_identity_number")
    if not name:
        raise InvalidInput("Ange ditt namn.", "name_missing")
    if not phone and not email:
        raise InvalidInput(texts.CONTACT_NEEDS_PHONE_OR_EMAIL, "contact_missing")
    if phone and not is_phone_number(phone):
        raise InvalidInput(texts.CONTACT_BAD_PHONE, "bad_phone")
    if email and not is_email(email):
        raise InvalidInput(texts.CONTACT_BAD_EMAIL, "bad_email")
    if conversation_id is not None and db.get(Conversation, conversation_id) is None:
        db.rollback()
        raise ConversationNotFound(conversation_id)
    request = ContactRequest(
        conversation_id=conversation_id, reason=reason, name=name[:120], phone=phone, email=email,
        topic=topic, message=mask_text(message) if message else None,
        status=ContactStatus.OPEN.value, created_at=now,
    )
    db.add(request)
    db.commit()
    return request


def list_contact_requests(*, db: Session, status: str | None = None, limit: int = 200) -> list[ContactRequest]:
    query = select(ContactRequest).order_by(ContactRequest.id.desc()).limit(limit)
    if status:
        query = query.where(ContactRequest.status == status)
    rows = list(db.scalars(query))
    db.commit()
    return rows


def close_contact_request(*, db: Session, request_id: int, staff: StaffContext, note: str | None,
                          now: datetime) -> ContactRequest:
    """Mark a contact request handled, recording who and when. Commits."""
    require_storable(note)
    rows = db.execute(
        update(ContactRequest)
        .where(ContactRequest.id == request_id, ContactRequest.status == ContactStatus.OPEN.value)
        .values(status=ContactStatus.CLOSED.value, handled_by=staff.staff_id, handled_by_email=staff.email,
                handled_at=now, handled_note=mask_text(note.strip()) if note and note.strip() else None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not rows:
        exists = db.get(ContactRequest, request_id)
        db.rollback()
        if exists is None:
            raise NotFound(texts.CONTACT_NOT_FOUND, "contact_request_not_found")
        raise Conflict(texts.CONTACT_ALREADY_CLOSED, "contact_request_closed")
    staff_service.audit(db=db, staff=staff, action="close_contact_request", now=now,
                        contact_request_id=request_id)
    db.commit()
    request = db.get(ContactRequest, request_id)
    db.commit()
    assert request is not None
    return request
