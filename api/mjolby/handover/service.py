"""The handover's service functions, in one namespace for its routers and the console.

Each seam lives in its own module: availability (chat mode, hours, staff
online, queue and wait), cases (the citizen's side), contact_requests,
staff_actions (what staff do with a case), live (what the live streams read)
and purge (retention).
"""
from __future__ import annotations

from mjolby.handover.availability import (
    CHAT_MODES,
    QueueInfo,
    ServiceStatus,
    chat_mode,
    current_queue,
    estimate_wait_minutes,
    queue_info,
    service_status,
    set_chat_mode,
)
from mjolby.handover.cases import (
    CANCEL_PAYLOAD,
    cancel_waiting,
    create_case,
    expire_idle_cases,
    is_cancel_request,
    rate,
    waiting_line,
)
from mjolby.handover.changes import Changed
from mjolby.handover.contact_requests import (
    close_contact_request,
    create_contact_request,
    list_contact_requests,
)
from mjolby.handover.live import (
    ConversationUpdate,
    conversation_exists,
    conversation_of_case,
    conversation_update,
    last_message_id,
    messages_after,
    queue_snapshot,
    staff_still_signed_in,
)
from mjolby.handover.purge import HandoverPurge, purge_handover_records
from mjolby.handover.staff_actions import (
    TOPIC,
    CaseView,
    QueueEntry,
    add_note,
    claim,
    close,
    forward,
    list_queue,
    mailboxes,
    open_case,
    reply,
    return_to_bot,
)

__all__ = [
    "CANCEL_PAYLOAD", "CHAT_MODES", "TOPIC", "CaseView", "Changed", "ConversationUpdate", "HandoverPurge",
    "QueueEntry", "QueueInfo", "ServiceStatus", "add_note", "cancel_waiting", "chat_mode", "claim", "close",
    "close_contact_request", "conversation_exists", "conversation_of_case", "conversation_update",
    "create_case", "create_contact_request", "current_queue", "estimate_wait_minutes", "expire_idle_cases",
    "forward", "is_cancel_request", "last_message_id", "list_contact_requests", "list_queue", "mailboxes",
    "messages_after", "open_case", "purge_handover_records", "queue_info", "queue_snapshot", "rate", "reply",
    "return_to_bot", "service_status", "set_chat_mode", "staff_still_signed_in", "waiting_line",
]
