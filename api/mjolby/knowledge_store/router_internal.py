"""/api/v1/internal/knowledge/...: the live catalogue the bot's actions answer from.

Every action server process polls it (with If-None-Match) so that an answer or
a link saved in the editors' console is served within seconds, without a new
model. Protected like every internal route (Bearer INTERNAL_API_TOKEN).
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from mjolby.deps import InternalDep, SessionDep
from mjolby.knowledge_store import service

router = APIRouter(prefix="/internal/knowledge", tags=["internt (botens åtgärder)"])


@router.get("/catalogue", dependencies=[InternalDep], summary="Ämnenas svar och länkar just nu (ETag)",
            responses={200: {"description": "Samma form som bot/actions/catalogue.json"},
                       304: {"description": "Oförändrad sedan If-None-Match"}})
async def get_catalogue(db: SessionDep,
                        if_none_match: Annotated[str | None, Header(max_length=200)] = None) -> Response:
    data, etag = await run_in_threadpool(_read, db)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return JSONResponse(data, headers=headers)


def _read(db: Any) -> tuple[dict[str, Any], str]:
    return service.catalogue(db), service.catalogue_etag(db)
