"""Every table of the application, imported in one place for Alembic."""
from mjolby.conversations.models import Conversation, ConversationStats, Message
from mjolby.db import Base
from mjolby.handover.models import CaseForward, CaseNote, ContactRequest, HandoverCase, ServiceSetting
from mjolby.staff.models import AuditEntry, StaffSession, StaffUser

__all__ = [
    "AuditEntry", "Base", "CaseForward", "CaseNote", "ContactRequest", "Conversation",
    "ConversationStats", "HandoverCase", "Message", "ServiceSetting", "StaffSession", "StaffUser",
]
