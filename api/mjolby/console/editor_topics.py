"""The editors' topics: the list (search, filter, held-out accuracy, missed
questions), a topic's page where its answer, links and examples are edited,
a new topic, and retiring a topic.

Plain forms that work without JavaScript. A save is refused with a Swedish
message next to each field that is wrong, or, when someone else saved the
topic first, with a conflict message; either way the editor's text stays in
the form. A little script checks the fields as the editor types.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mjolby.console.pages import LOCAL_TZ, page
from mjolby.deps import ClockDep, ConsoleEditorDep, SessionDep
from mjolby.feedback.service import missed_by_topic
from mjolby.knowledge_store import rules, service
from mjolby.knowledge_store.rules import Problem
from mjolby.knowledge_store.service import TopicConflict, TopicInvalid, TopicRecord
from mjolby.publishing.service import topic_accuracy
from mjolby.staff.service import StaffContext

router = APIRouter(prefix="/staff/editor", include_in_schema=False)

KIND_LABELS = {"answer": "Svar", "sensitive": "Känsligt", "referral": "Hänvisning"}
CONFIDENCE_LABELS = {"high": "Hög", "medium": "Medel", "low": "Låg"}
REVIEW_MONTHS = 12
TEXT = 4000  # characters in one text field
LIST = 40000  # characters in one list field (examples: one per line)
NOTICES = {
    "saved": "Ämnet är sparat. Svar och länkar gäller i chatten inom tio sekunder.",
    "created": "Ämnet är skapat. Det känns igen i chatten när en ny modell har publicerats.",
    "retired": "Ämnet är avvecklat. Chatten svarar som om den inte förstod frågan.",
}
KIND_HINTS = {
    "answer": "svara från kunskapen och länka till sidan",
    "sensitive": "svara varsamt och erbjud en människa",
    "referral": "frågan hör till en annan myndighet",
}


@dataclass
class Row:
    topic: TopicRecord
    review_due: bool
    accuracy: float | None
    missed: int


def _review_due(reviewed: str, today: date) -> bool:
    try:
        when = date.fromisoformat(reviewed)
    except ValueError:
        return True
    return when < today - timedelta(days=365 * REVIEW_MONTHS // 12)


def _rows(db: Session, today: date, now: Any) -> list[Row]:
    topics = service.list_topics(db)
    accuracy = topic_accuracy(db)
    missed = missed_by_topic(db, now - timedelta(days=30))
    db.commit()
    return [Row(t, _review_due(t.reviewed, today), accuracy.get(t.id), missed.get(t.id, 0)) for t in topics]


def _matches(row: Row, q: str, kind: str, show: str) -> bool:
    if kind and row.topic.kind != kind:
        return False
    if show == "granska" and not row.review_due:
        return False
    if show == "avvecklade" and not row.topic.retired:
        return False
    if show == "" and row.topic.retired:
        return False
    if show == "andrade" and not row.topic.edited:
        return False
    text = f"{row.topic.id} {row.topic.title} {row.topic.owner}".casefold()
    return all(word in text for word in q.casefold().split())


@router.get("", include_in_schema=False)
async def editor_home(staff: ConsoleEditorDep) -> Response:
    return RedirectResponse("/staff/editor/amnen", status_code=303)


@router.get("/amnen", response_class=HTMLResponse)
async def topics_page(request: Request, staff: ConsoleEditorDep, db: SessionDep, clock: ClockDep,
                      q: str = "", typ: str = "", visa: str = "") -> HTMLResponse:
    now = clock()
    rows = await run_in_threadpool(_rows, db, now.astimezone(LOCAL_TZ).date(), now)
    q, typ, visa = q[:200], typ if typ in KIND_LABELS else "", visa if visa in ("granska", "avvecklade",
                                                                              "andrade", "alla") else ""
    shown = [r for r in rows if _matches(r, q, typ, visa)]
    return page(request, "editor_topics.html", staff, rows=shown, total=len(rows), q=q, typ=typ, visa=visa,
                KIND_LABELS=KIND_LABELS, editor_page="topics")


# -- a topic's form ------------------------------------------------------------------

def _pairs(text: str, second: str) -> list[dict[str, str]]:
    """'Rubrik | https://...' per line; a line without | is a title without address."""
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        title, _, rest = line.partition("|")
        found.append({"title": title.strip(), second: rest.strip()})
    return found


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass
class TopicForm:
    """What the editor typed, exactly, so that nothing is lost when a save is refused."""

    title: str = ""
    owner: str = ""
    reviewed: str = ""
    confidence: str = ""
    answer: str = ""
    child_answer: str = ""
    links: str = ""
    buttons: str = ""
    sources: str = ""
    examples: str = ""

    @classmethod
    def of(cls, topic: TopicRecord) -> TopicForm:
        d = topic.data
        return cls(
            title=topic.title, owner=d.get("owner") or "", reviewed=str(d.get("reviewed") or ""),
            confidence=d.get("confidence") or "", answer=d.get("answer") or "",
            child_answer=d.get("child_answer") or "",
            links="\n".join(f"{x['title']} | {x['url']}" for x in d.get("links") or []),
            buttons="\n".join(f"{x['title']} | {x['payload']}" for x in d.get("buttons") or []),
            sources="\n".join(d.get("sources") or []), examples="\n".join(d.get("examples") or []),
        )

    def data(self, base: dict[str, Any] | None = None) -> dict[str, Any]:
        data = dict(base or {})
        data.update(
            title=self.title.strip(), owner=self.owner.strip(), reviewed=self.reviewed.strip(),
            confidence=self.confidence or None, answer=self.answer.strip(),
            child_answer=self.child_answer.strip() or None, links=_pairs(self.links, "url"),
            buttons=_pairs(self.buttons, "payload"), sources=_lines(self.sources), examples=_lines(self.examples),
        )
        return data


def _topic_form(
    title: Annotated[str, Form(max_length=200)] = "", owner: Annotated[str, Form(max_length=200)] = "",
    reviewed: Annotated[str, Form(max_length=20)] = "", confidence: Annotated[str, Form(max_length=10)] = "",
    answer: Annotated[str, Form(max_length=TEXT)] = "", child_answer: Annotated[str, Form(max_length=TEXT)] = "",
    links: Annotated[str, Form(max_length=TEXT)] = "", buttons: Annotated[str, Form(max_length=TEXT)] = "",
    sources: Annotated[str, Form(max_length=TEXT)] = "", examples: Annotated[str, Form(max_length=LIST)] = "",
) -> TopicForm:
    """The topic's fields from the posted form (every topic form posts the same ones)."""
    return TopicForm(title=title, owner=owner, reviewed=reviewed,
                     confidence=confidence if confidence in CONFIDENCE_LABELS else "", answer=answer,
                     child_answer=child_answer, links=links, buttons=buttons, sources=sources, examples=examples)


TopicFormDep = Annotated[TopicForm, Depends(_topic_form)]


def _by_field(problems: list[Problem]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for p in problems:
        if p.sv:
            found.setdefault(p.field or "form", []).append(p.sv)
    return found


async def _topic_page(request: Request, staff: StaffContext, db: Session, topic_id: str, *,
                      form: TopicForm | None = None, version: int | None = None, errors: list[Problem] = (),
                      warnings: list[Problem] = (), conflict: TopicRecord | None = None,
                      notice: str | None = None, status_code: int = 200) -> HTMLResponse:
    topic = await run_in_threadpool(service.get_topic, db, topic_id)  # NotFound: a 404 page
    history = await run_in_threadpool(service.revisions, db, topic_id)
    return page(request, "editor_topic.html", staff, status_code=status_code, topic=topic,
                form=form or TopicForm.of(topic), version=version if version is not None else topic.version,
                errors=_by_field(list(errors)), warnings=_by_field(list(warnings)), conflict=conflict,
                history=history[:20], KIND_LABELS=KIND_LABELS, CONFIDENCE_LABELS=CONFIDENCE_LABELS,
                editor_page="topics", min_examples=rules.MIN_EXAMPLES, is_new=False,
                topic_notice=notice or NOTICES.get(request.query_params.get("sparat", "")))


@router.get("/amnen/nytt", response_class=HTMLResponse)
async def new_topic_page(request: Request, staff: ConsoleEditorDep) -> HTMLResponse:
    return _new_page(request, staff, TopicForm(), "", "answer")


def _new_page(request: Request, staff: StaffContext, form: TopicForm, topic_id: str, kind: str,
              errors: list[Problem] = (), status_code: int = 200) -> HTMLResponse:
    return page(request, "editor_topic.html", staff, status_code=status_code, topic=None, form=form,
                new_id=topic_id, new_kind=kind, version=0, errors=_by_field(list(errors)), warnings={},
                conflict=None, history=[], KIND_LABELS=KIND_LABELS, KIND_HINTS=KIND_HINTS,
                CONFIDENCE_LABELS=CONFIDENCE_LABELS, editor_page="topics", min_examples=rules.MIN_EXAMPLES,
                is_new=True, topic_notice=None)


@router.post("/amnen/nytt", response_class=HTMLResponse)
async def new_topic_submit(
    request: Request, staff: ConsoleEditorDep, db: SessionDep, clock: ClockDep, form: TopicFormDep,
    topic_id: Annotated[str, Form(max_length=80)] = "", kind: Annotated[str, Form(max_length=20)] = "answer",
) -> Response:
    topic_id = topic_id.strip()
    try:
        await run_in_threadpool(service.create_topic, db, topic_id, kind, form.data(), staff, now=clock())
    except TopicInvalid as exc:
        return _new_page(request, staff, form, topic_id, kind, exc.errors, status_code=422)
    return RedirectResponse(f"/staff/editor/amnen/{topic_id}?sparat=created", status_code=303)


@router.get("/amnen/{topic_id}", response_class=HTMLResponse)
async def topic_page(request: Request, topic_id: str, staff: ConsoleEditorDep, db: SessionDep) -> HTMLResponse:
    return await _topic_page(request, staff, db, topic_id)


@router.post("/amnen/{topic_id}", response_class=HTMLResponse)
async def topic_submit(
    request: Request, topic_id: str, staff: ConsoleEditorDep, db: SessionDep, clock: ClockDep, form: TopicFormDep,
    version: Annotated[int, Form(ge=0)] = 0,
) -> Response:
    current = await run_in_threadpool(service.get_topic, db, topic_id)
    try:
        checked = await run_in_threadpool(
            lambda: service.check_topic(db, topic_id, form.data(current.data), previous_examples=current.examples))
        await run_in_threadpool(service.save_topic, db, topic_id, form.data(current.data), version, staff,
                                now=clock())
    except TopicConflict as exc:
        # The editor's text stays in the form; saving again replaces the other version on purpose.
        return await _topic_page(request, staff, db, topic_id, form=form, version=exc.current.version,
                                 conflict=exc.current, status_code=409)
    except TopicInvalid as exc:
        return await _topic_page(request, staff, db, topic_id, form=form, version=version, errors=exc.errors,
                                 warnings=exc.warnings, status_code=422)
    if checked.warnings:
        return await _topic_page(request, staff, db, topic_id, warnings=checked.warnings, notice=NOTICES["saved"])
    return RedirectResponse(f"/staff/editor/amnen/{topic_id}?sparat=saved", status_code=303)


@router.post("/amnen/{topic_id}/avveckla", response_class=HTMLResponse)
async def retire_submit(request: Request, topic_id: str, staff: ConsoleEditorDep, db: SessionDep,
                        clock: ClockDep, version: Annotated[int, Form(ge=0)] = 0) -> Response:
    try:
        await run_in_threadpool(service.retire_topic, db, topic_id, version, staff, now=clock())
    except TopicConflict as exc:
        return await _topic_page(request, staff, db, topic_id, conflict=exc.current, status_code=409)
    except TopicInvalid as exc:
        return await _topic_page(request, staff, db, topic_id, errors=exc.errors, status_code=422)
    return RedirectResponse(f"/staff/editor/amnen/{topic_id}?sparat=retired", status_code=303)


@router.post("/amnen/{topic_id}/kontrollera")
async def check_submit(topic_id: str, staff: ConsoleEditorDep, db: SessionDep, form: TopicFormDep) -> JSONResponse:
    """Check the form as the editor types (the page's script); nothing is saved."""

    def run() -> service.CheckResult:
        current = service.get_topic(db, topic_id)
        return service.check_topic(db, topic_id, form.data(current.data), previous_examples=current.examples)

    checked = await run_in_threadpool(run)
    return JSONResponse({"errors": _by_field(checked.errors), "warnings": _by_field(checked.warnings)})
