"""Input channel for the chat API gateway.

Rasa's REST channel drops response metadata, but the gateway needs each bot
message's `topic` and `links`. This channel keeps them: every response in the
domain (and every message an action sends) carries `metadata: {topic, links}`,
and the collector returns it as flat fields next to the text and buttons.

The gateway is the only client. It has already masked personal identity
numbers; nothing here sees raw citizen text.
"""
from __future__ import annotations

import logging
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import action_validation, keep_alive, nlu_thread

logger = logging.getLogger(__name__)
action_validation.install()
keep_alive.install()
nlu_thread.install()


class GatewayOutputChannel(CollectingOutputChannel):
    """Collects each bot message whole: text, buttons, topic, links, custom."""

    @classmethod
    def name(cls) -> Text:
        return "gateway"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        metadata = message.get("metadata") or {}
        custom = message.get("custom") or None
        topic = metadata.get("topic")
        links = metadata.get("links")
        if isinstance(custom, dict):
            topic = custom.get("topic", topic)
            links = custom.get("links", links)
        self.messages.append(
            {
                "recipient_id": recipient_id,
                "text": message.get("text"),
                "buttons": [
                    {"title": b.get("title", ""), "payload": b.get("payload", "")}
                    for b in (message.get("buttons") or [])
                ],
                "topic": topic,
                "links": list(links or []),
                "custom": custom,
            }
        )


class GatewayInput(InputChannel):
    """POST /webhooks/gateway/webhook and GET /webhooks/gateway/health."""

    @classmethod
    def name(cls) -> Text:
        return "gateway"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = Blueprint("gateway_webhook", __name__)

        @webhook.route("/health", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            ready = bool(agent and agent.is_ready())
            return response.json({"status": "ok", "model": ready}, status=200 if ready else 503)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json or {}
            sender = body.get("sender")
            text = body.get("message")
            if not isinstance(sender, str) or not isinstance(text, str):
                return response.json({"detail": "sender and message are required"}, status=422)
            metadata: Optional[Dict[Text, Any]] = body.get("metadata") or None
            collector = GatewayOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        sender,
                        input_channel=self.name(),
                        metadata=metadata,
                    )
                )
            except CancelledError:
                logger.error("Message handling timed out for a conversation")
                return response.json({"detail": "timeout"}, status=504)
            except Exception:  # noqa: BLE001 - the gateway answers the citizen itself
                logger.exception("Message handling failed for a conversation")
                return response.json({"detail": "bot error"}, status=500)
            return response.json(messages_for_gateway(collector.messages))

        return webhook


def messages_for_gateway(messages: List[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    return [{k: v for k, v in m.items() if k != "recipient_id"} for m in messages]
