"""The insight page for Medborgarservice's leads (admins and team leads):
figures for a period next to the period before, charts with tables, CSV."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from mjolby.console.pages import page
from mjolby.deps import ClockDep, ConsoleInsightDep, HoursDep, SessionDep
from mjolby.errors import InvalidInput, NotFound
from mjolby.insight import service
from mjolby.insight.report import PERIODS, Report, to_csv

router = APIRouter(prefix="/staff/insikt", include_in_schema=False)

# The editors' view of a topic, where the app has it.
EDITOR_TOPIC_ROUTE = "/staff/editor/topics/{topic_id}"
PERIOD_LABELS = {"idag": "I dag", "7": "7 dagar", "30": "30 dagar", "egen": "Egna datum"}
Choice = Annotated[str, Query(max_length=8)]
DateParam = Annotated[str | None, Query(max_length=10)]


def _editor_link(request: Request):  # noqa: ANN202 - a small callable
    exists = any(getattr(route, "path", None) == EDITOR_TOPIC_ROUTE for route in request.app.routes)
    if not exists:
        return lambda _topic: None
    return lambda topic: EDITOR_TOPIC_ROUTE.format(topic_id=topic)


async def _report(request: Request, db, hours, clock, period: str, fran: str | None,  # noqa: ANN001
                  till: str | None) -> Report:
    return await run_in_threadpool(service.report, db=db, hours=hours, now=clock(), choice=period,
                                   first=fran or None, last=till or None, editor_link=_editor_link(request))


def _query(report: Report) -> str:
    if report.period.choice in PERIODS:
        return f"period={report.period.choice}"
    return f"period=egen&fran={report.period.first.isoformat()}&till={report.period.last.isoformat()}"


@router.get("", response_class=HTMLResponse)
async def insight_page(request: Request, staff: ConsoleInsightDep, db: SessionDep, hours: HoursDep,
                       clock: ClockDep, period: Choice = "30", fran: DateParam = None,
                       till: DateParam = None) -> HTMLResponse:
    try:
        report = await _report(request, db, hours, clock, period, fran, till)
        error = None
    except InvalidInput as exc:
        report = await _report(request, db, hours, clock, "30", None, None)
        error = exc.detail
    return page(request, "insight.html", staff, status_code=422 if error else 200, nav="insight",
                report=report, error=error, query=_query(report), period_labels=PERIOD_LABELS,
                form={"period": period, "fran": fran or "", "till": till or ""})


@router.get("/export.csv")
async def insight_csv(request: Request, staff: ConsoleInsightDep, db: SessionDep, hours: HoursDep,
                      clock: ClockDep, period: Choice = "30", fran: DateParam = None, till: DateParam = None,
                      tabell: Annotated[str, Query(max_length=40)] = "alla") -> Response:
    report = await _report(request, db, hours, clock, period, fran, till)
    if tabell == "alla":
        tables = report.tables
    else:
        try:
            tables = [report.table(tabell)]
        except KeyError:
            raise NotFound("Det finns ingen sådan tabell.", "no_such_table") from None
    name = f"insikt-{tabell}-{report.period.first.isoformat()}-{report.period.last.isoformat()}.csv"
    # A byte order mark, so that Excel reads å, ä and ö right.
    return Response("\ufeff" + to_csv(tables), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
