"""The editors' inbox (/staff/editor/inbox): what citizens asked that the
assistant missed, was unsure of, or answered without helping.

Identical texts are one row, newest first, with the bot's best guesses. One
click adds the text as an example to a topic (the suggested one preselected;
the knowledge store checks it), marks that a new topic is needed, or dismisses
it. Every decision is written to the audit log.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mjolby.console.pages import page
from mjolby.deps import ClockDep, ConsoleEditorDep, SessionDep, SettingsDep
from mjolby.errors import Conflict, DomainError, InvalidInput
from mjolby.feedback import service
from mjolby.feedback.models import ItemKind, ItemStatus
from mjolby.feedback.texts import KIND_LABELS
from mjolby.knowledge_store import service as knowledge
from mjolby.publishing import service as publishing
from mjolby.staff import service as staff_service
from mjolby.staff.service import StaffContext

router = APIRouter(prefix="/staff/editor/inbox", include_in_schema=False)

NOTICES = {
    "added": "Meddelandet är tillagt som exempel. Det når chatten när modellen publiceras.",
    "new_topic": "Meddelandet är markerat: ett nytt ämne behövs.",
    "dismissed": "Meddelandet är avfärdat.",
}


def _topics(db: Session) -> list[tuple[str, str]]:
    """(id, title) of every topic that answers, for the topic choice."""
    return [(r.id, r.title) for r in knowledge.list_topics(db) if not r.retired]


def _inbox(db: Session, kind: str | None, since: Any) -> tuple[list[service.InboxGroup], list[tuple[str, str]]]:
    service.collect_handovers(db=db, since=since)
    groups = service.inbox(db=db, kind=kind)
    topics = _topics(db)
    db.commit()
    return groups, topics


async def _page(request: Request, staff: StaffContext, db: Session, settings: Any, clock: Any, *,
                kind: str | None = None, errors: dict[int, str] | None = None,
                status_code: int = 200) -> HTMLResponse:
    since = clock() - timedelta(days=settings.retention_days)
    groups, topics = await run_in_threadpool(_inbox, db, kind, since)
    return page(
        request, "editor_inbox.html", staff, status_code=status_code,
        notice=NOTICES.get(request.query_params.get("klart", "")),
        groups=groups, topics=topics, titles=dict(topics), kind=kind or "",
        kinds=KIND_LABELS, errors=errors or {},
    )


@router.get("", response_class=HTMLResponse)
async def inbox_page(request: Request, staff: ConsoleEditorDep, db: SessionDep, settings: SettingsDep,
                     clock: ClockDep,
                     typ: Annotated[str, Query(max_length=24)] = "") -> HTMLResponse:
    return await _page(request, staff, db, settings, clock, kind=_kind(typ))


def _add_example(db: Session, staff: StaffContext, item_id: int, topic: str, now: Any) -> None:
    """The text becomes an example of `topic` and joins the regression set that
    every later publish must still answer with that topic."""
    group = service.open_group(db=db, item_id=item_id)
    knowledge.add_example(db, topic, group.text, staff, now=now)
    publishing.add_regression_item(db=db, text=group.text, topic_id=topic, by_email=staff.email, now=now)
    _close(db, staff, group.ids, ItemStatus.ADDED, now, topic)


def _problem(exc: DomainError) -> str:
    """What to fix, in the knowledge store's own words (each problem of a refused save)."""
    problems = [p.sv for p in getattr(exc, "errors", []) if getattr(p, "sv", "")]
    return " ".join(problems) or exc.detail


def _close(db: Session, staff: StaffContext, ids: list[int], status: ItemStatus, now: Any,
           topic: str | None = None) -> None:
    changed = service.close_group(db=db, item_ids=ids, status=status, by_email=staff.email, now=now,
                                  topic=topic)
    staff_service.audit(db=db, staff=staff, action=f"inbox_{status.value}", now=now,
                        detail=f"{changed} meddelande(n)" + (f", ämne {topic}" if topic else ""))
    db.commit()


@router.post("/{item_id}/exempel")
async def add_example_submit(request: Request, item_id: int, staff: ConsoleEditorDep, db: SessionDep,
                             settings: SettingsDep, clock: ClockDep,
                             topic: Annotated[str, Form(max_length=64)] = "",
                             typ: Annotated[str, Form(max_length=24)] = "") -> Response:
    try:
        await run_in_threadpool(_add_example, db, staff, item_id, topic, clock())
    except (InvalidInput, Conflict) as exc:  # the knowledge store refused the example
        await run_in_threadpool(db.rollback)
        return await _page(request, staff, db, settings, clock, kind=_kind(typ),
                           errors={item_id: _problem(exc)}, status_code=422)
    return _back(typ, "added")


@router.post("/{item_id}/nytt-amne")
async def new_topic_submit(item_id: int, staff: ConsoleEditorDep, db: SessionDep, clock: ClockDep,
                           typ: Annotated[str, Form(max_length=24)] = "") -> Response:
    await run_in_threadpool(_close_group, db, staff, item_id, ItemStatus.NEW_TOPIC, clock())
    return _back(typ, "new_topic")


@router.post("/{item_id}/avfarda")
async def dismiss_submit(item_id: int, staff: ConsoleEditorDep, db: SessionDep, clock: ClockDep,
                         typ: Annotated[str, Form(max_length=24)] = "") -> Response:
    await run_in_threadpool(_close_group, db, staff, item_id, ItemStatus.DISMISSED, clock())
    return _back(typ, "dismissed")


def _close_group(db: Session, staff: StaffContext, item_id: int, status: ItemStatus, now: Any) -> None:
    group = service.open_group(db=db, item_id=item_id)
    _close(db, staff, group.ids, status, now)


def _kind(value: str) -> str | None:
    """The kind of item to show, when `value` names one."""
    return value if value in {k.value for k in ItemKind} else None


def _back(kind: str, notice: str) -> RedirectResponse:
    """The inbox again (303), with the filter the editor had chosen and what was done."""
    query = {"typ": kind} if _kind(kind) else {}
    return RedirectResponse("/staff/editor/inbox?" + urlencode({**query, "klart": notice}), status_code=303)
