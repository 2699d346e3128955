"""The citizen's "Fick du svar på din fråga?" (an extension of CONTRACT.md)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from starlette.concurrency import run_in_threadpool

from mjolby.conversations import service as conversations
from mjolby.conversations.models import MAX_MESSAGE_ID
from mjolby.conversations.schemas import ErrorOut
from mjolby.deps import ClientKeyDep, ClockDep, LimiterDep, SessionDep
from mjolby.feedback import service
from mjolby.feedback.schemas import FeedbackCreate, FeedbackOut
from mjolby.feedback.texts import MAX_COMMENT_CHARACTERS

router = APIRouter(prefix="/conversations", tags=["feedback"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": description}
    for code, description in {
        404: "Okänd konversation, eller inget svar från chattassistenten med det id:t i den",
        409: "Frågan är redan besvarad för det här svaret",
        413: f"Kommentaren är längre än {MAX_COMMENT_CHARACTERS} tecken",
        422: "Fel format på förfrågan (indata upprepas aldrig i svaret)",
        429: "För många förfrågningar; se Retry-After",
    }.items()
}


@router.post(
    "/{conversation_id}/messages/{message_id}/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackOut,
    summary="Svara på \"Fick du svar på din fråga?\"",
    description=(
        "Extension: the citizen's Ja (`helped: true`) or Nej (`helped: false`, with an "
        "optional short comment) on one bot answer that carries a knowledge topic. "
        "Once per answer; a second time gives 409."
    ),
    responses=_ERRORS,
)
async def give_feedback(
    conversation_id: Annotated[str, Path(description="Id från POST /conversations.")],
    message_id: Annotated[int, Path(ge=1, le=MAX_MESSAGE_ID, description="Id för bottens svar.")],
    body: FeedbackCreate, db: SessionDep, limiter: LimiterDep, client: ClientKeyDep, clock: ClockDep,
) -> FeedbackOut:
    await limiter.check_client(client)
    conversation = await run_in_threadpool(
        conversations.load_conversation, db=db, conversation_id=conversation_id
    )
    await limiter.check_conversation(conversation.id)
    feedback = await run_in_threadpool(
        service.record_feedback, db=db, conversation_id=conversation.id, message_id=message_id,
        helped=body.helped, comment=body.comment, now=clock(),
    )
    return FeedbackOut(message_id=str(feedback.message_id), helped=feedback.helped)
