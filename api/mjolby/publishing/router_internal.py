"""/api/v1/internal/models/current: the published model, for Rasa's model pulling
(Bearer INTERNAL_API_TOKEN, like the other internal routes).

Rasa asks every `wait_time_between_pulls` seconds with If-None-Match set to
the fingerprint it has loaded: 304 while it is current; otherwise the file with
ETag = its fingerprint, which Rasa keeps for the next question.
"""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from mjolby.deps import ClockDep, InternalDep, SessionDep, SettingsDep
from mjolby.errors import NotFound
from mjolby.publishing import service

router = APIRouter(prefix="/internal/models", tags=["internt (botens åtgärder)"])

NO_MODEL = "Det finns ingen publicerad modell ännu."


def _bare(tag: str) -> str:
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    return tag.strip('"')


@router.get("/current", dependencies=[InternalDep], summary="Den publicerade modellen (för Rasa)",
            responses={200: {"content": {"application/gzip": {}}}, 304: {"description": "Oförändrad"},
                       404: {"description": "Ingen modell ännu"}})
async def current_model(request: Request, db: SessionDep, settings: SettingsDep, clock: ClockDep) -> Response:
    version = await run_in_threadpool(service.ensure_registered, db=db, data_dir=settings.data_dir, now=clock())
    path = service.version_file(version, settings.data_dir) if version is not None else None
    if version is None or path is None or not path.is_file():
        raise NotFound(NO_MODEL, "no_model")
    etag = f'"{version.fingerprint}"'
    asked = request.headers.get("if-none-match", "")
    if asked and any(_bare(tag) == version.fingerprint for tag in asked.split(",")):
        return Response(status_code=304, headers={"ETag": etag})
    return FileResponse(path, media_type="application/gzip",
                        headers={"ETag": etag, "filename": version.file_name, "Cache-Control": "no-store"})
