"""Bodies of the feedback route (an extension of CONTRACT.md)."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from mjolby.conversations.schemas import PAYLOAD_PATTERN, _storable
from mjolby.feedback.texts import MAX_COMMENT_CHARACTERS


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    helped: StrictBool = Field(description="Svaret på \"Fick du svar på din fråga?\": true för Ja, false för Nej.")
    comment: Annotated[str, AfterValidator(_storable)] | None = Field(
        default=None,
        json_schema_extra={"pattern": PAYLOAD_PATTERN, "maxLength": MAX_COMMENT_CHARACTERS},
        description=(
            f"Valfri kort kommentar till ett Nej (högst {MAX_COMMENT_CHARACTERS} tecken; längre ger 413). "
            "Personnummer maskeras innan den sparas. Ignoreras vid Ja."
        ),
    )


class FeedbackOut(BaseModel):
    message_id: str = Field(description="Svaret som bedömdes.")
    helped: bool
