"""Every table of the application, imported in one place for Alembic."""
from mjolby.conversations.models import Conversation, ConversationStats, Message
from mjolby.db import Base
from mjolby.feedback.models import AnswerFeedback, InboxItem
from mjolby.handover.models import CaseForward, CaseNote, ContactRequest, HandoverCase, ServiceSetting
from mjolby.insight.models import InsightDaily, InsightDay
from mjolby.knowledge_store.models import KnowledgeFile, KnowledgeRevision, KnowledgeTopic
from mjolby.publishing.models import ModelVersion, PublishJob, RegressionItem
from mjolby.staff.models import AuditEntry, StaffSession, StaffUser

__all__ = [
    "KnowledgeFile", "KnowledgeRevision", "KnowledgeTopic",
    "AnswerFeedback", "InboxItem",
    "InsightDaily", "InsightDay",
    "ModelVersion", "PublishJob", "RegressionItem",
    "AuditEntry", "Base", "CaseForward", "CaseNote", "ContactRequest", "Conversation",
    "ConversationStats", "HandoverCase", "Message", "ServiceSetting", "StaffSession", "StaffUser",
]
