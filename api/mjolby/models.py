"""Every table of the application, imported in one place for Alembic."""
from mjolby.conversations.models import Conversation, ConversationStats, Message
from mjolby.db import Base

__all__ = ["Base", "Conversation", "ConversationStats", "Message"]
