"""Understand messages on a thread of their own, off Rasa's event loop.

Rasa 3.6 runs the NLU pipeline inside its single event loop: while one
message is embedded (20-40 ms for a long one, bot/components/embeddings.py)
no other conversation's tracker is read, no action is called and no reply is
sent. Here the same pipeline runs on one dedicated thread. The sentence
embedding is C code that releases the GIL, so it runs on the second core
while the loop goes on with the other conversations. One thread keeps the
pipeline's components used by one message at a time, as before.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")
_parse_on_loop = MessageProcessor.parse_message


async def _parse_message(
    self: MessageProcessor,
    message: UserMessage,
    tracker: Optional[DialogueStateTracker] = None,
    only_output_properties: bool = True,
) -> Dict[Text, Any]:
    if self.http_interpreter:
        return await _parse_on_loop(self, message, tracker, only_output_properties)
    if tracker is None:
        tracker = DialogueStateTracker.from_events(message.sender_id, [])
    parse_data = await asyncio.get_running_loop().run_in_executor(
        _executor, self._parse_message_with_graph, message, tracker, only_output_properties
    )
    self._update_full_retrieval_intent(parse_data)
    self._check_for_unseen_features(parse_data)
    return parse_data


def install() -> None:
    MessageProcessor.parse_message = _parse_message  # type: ignore[method-assign]
