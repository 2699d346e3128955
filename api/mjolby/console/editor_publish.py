"""Editors: publish a new model (training in the worker, the quality gate's
evaluation, try the candidate), the versions and one-click rollback.

Pages under /staff/editor/publicera for editors and admins. Training never
runs here: "Publicera" queues a job the worker takes (mjolby.publishing.worker);
this page shows its phase, percentage and elapsed time, and can be left and
opened again.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mjolby.console.pages import back, page
from mjolby.deps import ClockDep, ConsoleEditorDep, SessionDep, SettingsDep
from mjolby.errors import Conflict, DomainError
from mjolby.publishing import service
from mjolby.publishing.models import JobStatus, PublishJob
from mjolby.staff.service import StaffContext

router = APIRouter(prefix="/staff/editor", include_in_schema=False)

BASE = "/staff/editor/publicera"
PHASE_LABELS = {
    "queued": "Väntar på att träningen ska börja",
    "export": "Hämtar kunskapen",
    "generate": "Gör träningsdata",
    "train": "Tränar modellen",
    "evaluate": "Utvärderar den nya modellen",
    "ready": "Klar att publicera",
}
JOB_STATUS_LABELS = {
    "queued": "I kö", "running": "Pågår", "ready": "Klar att granska", "published": "Publicerad",
    "discarded": "Kastad", "failed": "Misslyckades",
}
TRY_UNAVAILABLE = "Den nya modellen kan inte provas just nu. Försök igen om en liten stund."
MAX_TRY_TEXT = 500


def elapsed(job: PublishJob, now: datetime) -> str:
    if job.started_at is None:
        return ""
    seconds = int(((job.finished_at or now) - job.started_at).total_seconds())
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def job_state(job: PublishJob, now: datetime) -> dict[str, Any]:
    return {"id": job.id, "status": job.status, "status_label": JOB_STATUS_LABELS.get(job.status, job.status),
            "phase": job.phase, "phase_label": PHASE_LABELS.get(job.phase, job.phase), "percent": job.percent,
            "elapsed": elapsed(job, now), "error": job.error}


def _overview(db: Session, data_dir: Path, now: datetime) -> dict[str, Any]:
    job = service.latest_job(db=db)
    service.ensure_registered(db=db, data_dir=data_dir, now=now)  # the setup model, when nothing is yet
    return {
        "job": job,
        "evaluation": service.evaluation_of(job) if job is not None else None,
        "changes": service.changes_of(job) if job is not None else None,
        "current": service.current_version(db=db),
        "versions": [{"v": v, "ev": service.evaluation_of(v), "ch": service.changes_of(v)}
                     for v in service.list_versions(db=db, limit=30)],
    }


async def _page(request: Request, staff: StaffContext, db: Session, now: datetime, *, status_code: int = 200,
                **extra: Any) -> HTMLResponse:
    data = await run_in_threadpool(_overview, db, request.app.state.settings.data_dir, now)
    job = data["job"]
    return page(request, "editor_publish.html", staff, status_code=status_code, now=now,
                state=job_state(job, now) if job is not None else None,
                open_job=job is not None and job.status in (JobStatus.QUEUED.value, JobStatus.RUNNING.value),
                PHASE_LABELS=PHASE_LABELS, **data, **extra)


@router.get("/publicera", response_class=HTMLResponse)
async def publish_page(request: Request, staff: ConsoleEditorDep, db: SessionDep, clock: ClockDep) -> HTMLResponse:
    return await _page(request, staff, db, clock())


@router.post("/publicera")
async def publish_start(request: Request, staff: ConsoleEditorDep, db: SessionDep, clock: ClockDep,
                        note: Annotated[str, Form(max_length=500)] = "") -> Response:
    try:
        await run_in_threadpool(service.request_publish, db=db, staff=staff, note=note, now=clock())
    except Conflict as exc:
        return await _page(request, staff, db, clock(), status_code=409, error=exc.detail)
    return back(BASE, "training_started")


@router.get("/publicera/jobb/{job_id}.json")
async def job_status(job_id: int, staff: ConsoleEditorDep, db: SessionDep, clock: ClockDep) -> JSONResponse:
    job = await run_in_threadpool(service.get_job, db=db, job_id=job_id)
    return JSONResponse(job_state(job, clock()), headers={"Cache-Control": "no-store"})


@router.post("/publicera/jobb/{job_id}/publicera")
async def publish_job(request: Request, job_id: int, staff: ConsoleEditorDep, db: SessionDep, clock: ClockDep,
                      settings: SettingsDep,
                      override_reason: Annotated[str, Form(max_length=1000)] = "") -> Response:
    try:
        await run_in_threadpool(service.publish_job, db=db, staff=staff, job_id=job_id, data_dir=settings.data_dir,
                                now=clock(), override_reason=override_reason)
    except DomainError as exc:
        db.rollback()
        return await _page(request, staff, db, clock(), status_code=422, error=exc.detail)
    return back(BASE, "model_published")


@router.post("/publicera/jobb/{job_id}/kasta")
async def discard_job(job_id: int, staff: ConsoleEditorDep, db: SessionDep, clock: ClockDep) -> Response:
    await run_in_threadpool(service.discard_job, db=db, staff=staff, job_id=job_id, now=clock())
    return back(BASE, "model_discarded")


@router.post("/publicera/prova", response_class=HTMLResponse)
async def try_candidate(request: Request, staff: ConsoleEditorDep, db: SessionDep, clock: ClockDep,
                        text: Annotated[str, Form(max_length=MAX_TRY_TEXT)] = "") -> HTMLResponse:
    job = await run_in_threadpool(service.latest_job, db=db)
    result: dict[str, Any] | None = None
    error = None
    if job is None or job.status != JobStatus.READY.value or not job.lab_url or not text.strip():
        error = TRY_UNAVAILABLE if text.strip() else "Skriv ett meddelande att prova."
    else:
        try:
            async with httpx.AsyncClient(timeout=20) as client:
                response = await client.post(f"{job.lab_url}/parse", json={"text": text})
                response.raise_for_status()
                result = response.json()
        except (httpx.HTTPError, ValueError):
            error = TRY_UNAVAILABLE
    return await _page(request, staff, db, clock(), try_text=text, try_result=result, try_error=error)


@router.post("/versioner/{version_id}/aterstall")
async def rollback(request: Request, version_id: int, staff: ConsoleEditorDep, db: SessionDep, clock: ClockDep,
                   settings: SettingsDep) -> Response:
    try:
        await run_in_threadpool(service.rollback, db=db, staff=staff, version_id=version_id,
                                data_dir=settings.data_dir, now=clock())
    except Conflict as exc:
        return await _page(request, staff, db, clock(), status_code=409, error=exc.detail)
    return back(BASE, "rolled_back")
