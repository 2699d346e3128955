"""The insight page's figures for a period, next to the period before it.

Everything here is an aggregate: counts below MIN_COUNT are shown as "<5",
and a share, average or wait is shown only when at least MIN_COUNT cases lie
behind it. docs/insight.md defines each figure.
"""
from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mjolby.errors import InvalidInput
from mjolby.handover.models import ContactRequest, ContactStatus
from mjolby.insight.calendar import WorkCalendar
from mjolby.insight.catalogue import Catalogue
from mjolby.insight.models import InsightDaily
from mjolby.insight.rollup import Key, compute_day, roll_up

MIN_COUNT = 5
MAX_DAYS = 366
PERIODS = {"idag": 1, "7": 7, "30": 30}
# Figures drawn per day.
SERIES = ("conversations", "user_messages", "conversations_outside_hours", "engaged", "self_served")
WAIT_BUCKETS = ((0, 5, "Under 5 min"), (5, 15, "5–14 min"), (15, 30, "15–29 min"), (30, 60, "30–59 min"),
                (60, 120, "1–2 h"), (120, None, "Mer än 2 h"))
REASONS = {"user_request": "Bad om en person", "unresolved": "Chattassistenten förstod inte",
           "sensitive": "Känsligt ämne"}
OUTCOMES = {"resolved": "Löst", "referred": "Hänvisat vidare", "needs_follow_up": "Behöver uppföljning"}
STATUSES = {"returned": "Tillbaka hos chattassistenten", "cancelled": "Medborgaren lämnade kön",
            "queued": "Väntar fortfarande", "active": "Pågår fortfarande"}
CONTACT_REASONS = {"callback": "Bli kontaktad", "sensitive_data": "Säkert meddelande (känsliga uppgifter)"}
WEEKDAYS = ("mån", "tis", "ons", "tor", "fre", "lör", "sön")
NO_FIGURE = "–"


# -- the period ---------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    first: date
    last: date
    choice: str = "30"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def previous(self) -> Period:
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1), self.choice)

    def each_day(self) -> Iterable[date]:
        for offset in range(self.days):
            yield self.first + timedelta(days=offset)

    @property
    def label(self) -> str:
        if self.first == self.last:
            return swedish_date(self.first)
        return f"{swedish_date(self.first)} – {swedish_date(self.last)}"


def choose_period(choice: str, first: str | None, last: str | None, today: date) -> Period:
    """Today, the last 7 or 30 days (today included), or a custom range of whole days."""
    if choice in PERIODS:
        return Period(today - timedelta(days=PERIODS[choice] - 1), today, choice)
    if choice != "egen":
        raise InvalidInput("Välj en period: i dag, 7 dagar, 30 dagar eller egna datum.", "bad_period")
    try:
        start, end = date.fromisoformat(first or ""), date.fromisoformat(last or "")
    except ValueError:
        raise InvalidInput("Skriv datumen som ÅÅÅÅ-MM-DD, till exempel 2026-11-01.", "bad_period") from None
    if end < start:
        raise InvalidInput("Slutdatumet kommer före startdatumet.", "bad_period")
    if end > today:
        raise InvalidInput("Perioden kan inte sluta efter i dag.", "bad_period")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput(f"Välj högst {MAX_DAYS} dagar.", "bad_period")
    return Period(start, end, choice)


def swedish_date(day: date) -> str:
    return day.isoformat()


# -- cells and tables ---------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    text: str
    number: float | None = None  # what a chart draws (None: nothing to show)
    href: str | None = None
    header: bool = False  # the row's heading cell

    def __str__(self) -> str:
        return self.text


def count_cell(value: int) -> Cell:
    if 0 < value < MIN_COUNT:
        return Cell("<5", None)
    return Cell(f"{value:,}".replace(",", "\u00a0"), float(value))


def share_cell(part: int, whole: int) -> Cell:
    if whole < MIN_COUNT:
        return Cell(NO_FIGURE)
    value = 100 * part / whole
    return Cell(f"{value:.0f}\u00a0%", round(value, 1))


def change_cell(now: int, before: int) -> Cell:
    if (0 < now < MIN_COUNT) or (0 < before < MIN_COUNT):
        return Cell(NO_FIGURE)
    diff = now - before
    sign = "+" if diff > 0 else ("−" if diff < 0 else "±")
    return Cell(f"{sign}{abs(diff):,}".replace(",", "\u00a0"), float(diff))


def points_cell(now: Cell, before: Cell) -> Cell:
    """The change of a share in percentage points."""
    if now.number is None or before.number is None:
        return Cell(NO_FIGURE)
    diff = round(now.number - before.number)
    sign = "+" if diff > 0 else ("−" if diff < 0 else "±")
    return Cell(f"{sign}{abs(diff)} procentenheter", float(diff))


def decimal(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def minutes_cell(value: float | None) -> Cell:
    if value is None:
        return Cell(NO_FIGURE)
    if value < 60:
        return Cell(f"{value:.0f} min", value)
    return Cell(f"{int(value // 60)} h {int(value % 60)} min", value)


def text_cell(text: str, href: str | None = None) -> Cell:
    return Cell(text, None, href, header=True)


@dataclass
class Table:
    id: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""


@dataclass
class Chart:
    id: str
    title: str
    kind: str  # bar, line, axis-mixed
    labels: list[str]
    datasets: list[dict]
    table_id: str  # the table with the same figures

    def data(self) -> dict:
        return {"type": self.kind, "labels": self.labels, "datasets": self.datasets}


# -- figures --------------------------------------------------------------------------
@dataclass
class Figures:
    totals: Counter[Key]
    daily: dict[date, Counter[str]]

    def get(self, metric: str, key: str = "", topic: str = "") -> int:
        return self.totals[metric, topic, key]

    def by_key(self, metric: str) -> Counter[str]:
        return self._summed(metric, 2)

    def by_topic(self, metric: str) -> Counter[str]:
        return self._summed(metric, 1)

    def _summed(self, metric: str, part: int) -> Counter[str]:
        found: Counter[str] = Counter()
        for key, value in self.totals.items():
            if key[0] == metric:
                found[key[part]] += value
        return found

    def pairs(self, metric: str) -> Counter[tuple[str, str]]:
        return Counter({(t, k): v for (m, t, k), v in self.totals.items() if m == metric})


def load_figures(*, db: Session, calendar: WorkCalendar, catalogue: Catalogue, period: Period,
                 now: datetime) -> Figures:
    """Stored days from insight_daily (missing ones are rolled up first), today live."""
    today = calendar.local_day(now)
    stored_last = min(period.last, today - timedelta(days=1))
    totals: Counter[Key] = Counter()
    daily: dict[date, Counter[str]] = defaultdict(Counter)
    if period.first <= stored_last:
        roll_up(db=db, calendar=calendar, catalogue=catalogue, now=now, first=period.first,
                last=stored_last, only_missing=True)
        in_period = (InsightDaily.day >= period.first, InsightDaily.day <= stored_last)
        for metric, topic, key, value in db.execute(
            select(InsightDaily.metric, InsightDaily.topic, InsightDaily.key, func.sum(InsightDaily.value))
            .where(*in_period).group_by(InsightDaily.metric, InsightDaily.topic, InsightDaily.key)
        ):
            totals[metric, topic, key] += int(value)
        for day, metric, value in db.execute(
            select(InsightDaily.day, InsightDaily.metric, func.sum(InsightDaily.value))
            .where(*in_period, InsightDaily.metric.in_(SERIES)).group_by(InsightDaily.day, InsightDaily.metric)
        ):
            daily[day][metric] += int(value)
    if period.first <= today <= period.last:
        live = compute_day(db=db, calendar=calendar, catalogue=catalogue, day=today, now=now)
        totals.update(live)
        for (metric, _topic, _key), value in live.items():
            if metric in SERIES:
                daily[today][metric] += value
    db.rollback()
    return Figures(+totals, daily)


def wait_percentiles(histogram: Counter[str]) -> tuple[int, float | None, float | None]:
    """(cases, median, 90th percentile) in minutes, nearest rank; None under MIN_COUNT cases."""
    waits = sorted((int(minutes), count) for minutes, count in histogram.items())
    n = sum(count for _m, count in waits)
    if n < MIN_COUNT:
        return n, None, None

    def rank(p: float) -> float:
        needed, seen = math.ceil(p * n), 0
        for minutes, count in waits:
            seen += count
            if seen >= needed:
                return float(minutes)
        return float(waits[-1][0])

    return n, rank(0.5), rank(0.9)


# -- the report -------------------------------------------------------------------------
@dataclass
class Report:
    period: Period
    previous: Period
    summary: list[tuple[str, Cell, Cell, Cell]]
    tables: list[Table]
    charts: list[Chart]

    def table(self, table_id: str) -> Table:
        for table in self.tables:
            if table.id == table_id:
                return table
        raise KeyError(table_id)


def build_report(*, db: Session, calendar: WorkCalendar, catalogue: Catalogue, period: Period,
                 now: datetime, editor_link: Callable[[str], str | None] = lambda _t: None) -> Report:
    now_f = load_figures(db=db, calendar=calendar, catalogue=catalogue, period=period, now=now)
    before_f = load_figures(db=db, calendar=calendar, catalogue=catalogue, period=period.previous, now=now)
    tables: list[Table] = []
    charts: list[Chart] = []

    summary = _summary(now_f, before_f)
    tables.append(Table("oversikt", "Översikt", ["Mått", "Perioden", "Föregående period", "Förändring"],
                        [[text_cell(name), a, b, c] for name, a, b, c in summary]))
    daily, volume_chart, trend_chart = _daily(period, now_f)
    tables.append(daily)
    charts += [volume_chart, trend_chart]
    handovers, wait_table, wait_chart, outcomes = _handovers(now_f, before_f)
    tables += [handovers, wait_table, outcomes]
    charts.append(wait_chart)
    tables.append(_contacts(now_f))
    tables.append(_open_contacts(db, calendar, now))
    tables += _topics(now_f, before_f, catalogue, editor_link)
    tables += _ratings(now_f, catalogue, editor_link)
    return Report(period, period.previous, summary, tables, charts)


def _rating_average(pairs: Iterable[tuple[str, int]]) -> tuple[int, float | None]:
    n = total = 0
    for stars, count in pairs:
        n += count
        total += int(stars) * count
    return n, (total / n if n else None)


def _average_cell(n: int, average: float | None) -> Cell:
    if average is None or n < MIN_COUNT:
        return Cell(NO_FIGURE)
    return Cell(decimal(average), round(average, 2))


def _summary(now: Figures, before: Figures) -> list[tuple[str, Cell, Cell, Cell]]:
    rows: list[tuple[str, Cell, Cell, Cell]] = []

    def counts(name: str, metric: str) -> None:
        a, b = sum(now.by_key(metric).values()), sum(before.by_key(metric).values())
        rows.append((name, count_cell(a), count_cell(b), change_cell(a, b)))

    def shares(name: str, part: Callable[[Figures], int], whole: Callable[[Figures], int]) -> None:
        a, b = share_cell(part(now), whole(now)), share_cell(part(before), whole(before))
        rows.append((name, a, b, points_cell(a, b)))

    counts("Samtal", "conversations")
    counts("Meddelanden från medborgare", "user_messages")
    shares("Samtal som började utanför öppettid", lambda f: f.get("conversations_outside_hours"),
           lambda f: f.get("conversations"))
    shares("Självbetjäningsgrad", lambda f: f.get("self_served"), lambda f: f.get("engaged"))
    shares("Samtal där chattassistenten inte förstod (reservsvar)", lambda f: f.get("fallback"),
           lambda f: f.get("engaged"))
    shares("Valda förslag av ”Menade du …?”", lambda f: f.get("suggestion_picks"),
           lambda f: f.get("suggestion_offers"))
    counts("Överlämningar till Medborgarservice", "handover")
    counts("Kontaktförfrågningar", "contact")
    shares("Kontaktförfrågningar hanterade inom löftet", lambda f: f.by_key("contact_promise")["in_time"],
           lambda f: f.by_key("contact_promise")["in_time"] + f.by_key("contact_promise")["late"])
    a_n, a_avg = _rating_average(now.by_key("rating").items())
    b_n, b_avg = _rating_average(before.by_key("rating").items())
    a, b = _average_cell(a_n, a_avg), _average_cell(b_n, b_avg)
    diff = Cell(NO_FIGURE) if a.number is None or b.number is None else \
        Cell(("+" if a.number >= b.number else "−") + decimal(abs(a.number - b.number)), a.number - b.number)
    rows.append(("Genomsnittligt betyg (1–5)", a, b, diff))
    return rows


def _daily(period: Period, figures: Figures) -> tuple[Table, Chart, Chart]:
    table = Table("per-dag", "Per dag", ["Dag", "Samtal", "Meddelanden från medborgare",
                                         "Började utanför öppettid", "Självbetjäningsgrad"],
                  note="Diagrammen visar samma siffror. Dagar med färre än 5 visas som 0 i diagrammen.")
    labels, conversations, messages, trend_labels, trend = [], [], [], [], []
    for day in period.each_day():
        values = figures.daily.get(day, Counter())
        label = f"{WEEKDAYS[day.weekday()]} {day.day}/{day.month}"
        c, m = count_cell(values["conversations"]), count_cell(values["user_messages"])
        rate = share_cell(values["self_served"], values["engaged"])
        table.rows.append([text_cell(swedish_date(day)), c, m, count_cell(values["conversations_outside_hours"]),
                           rate])
        labels.append(label)
        conversations.append(c.number or 0)
        messages.append(m.number or 0)
        if rate.number is not None:
            trend_labels.append(label)
            trend.append(rate.number)
    volume = Chart("diagram-volym", "Samtal och meddelanden per dag", "axis-mixed", labels, [
        {"name": "Samtal", "values": conversations, "chartType": "bar"},
        {"name": "Meddelanden från medborgare", "values": messages, "chartType": "line"},
    ], table.id)
    self_service = Chart("diagram-sjalvbetjaning", "Självbetjäningsgrad per dag (%)", "line", trend_labels,
                         [{"name": "Självbetjäningsgrad", "values": trend}], table.id)
    return table, volume, self_service


def _handovers(now: Figures, before: Figures) -> tuple[Table, Table, Chart, Table]:
    reasons = now.by_key("handover")
    previous = before.by_key("handover")
    abandoned = now.by_key("handover_abandoned")
    waits = now.pairs("claim_wait_reason")
    table = Table("overlamningar", "Överlämningar per orsak",
                  ["Orsak", "Överlämningar", "Föregående period", "Lämnade kön innan någon svarade",
                   "Väntan tills någon tog ärendet, median", "Väntan, 90:e percentilen"],
                  note="Väntan räknas i Medborgarservice öppettid.")
    for reason, label in REASONS.items():
        _n, median, p90 = wait_percentiles(Counter({k: v for (t, k), v in waits.items() if t == reason}))
        table.rows.append([text_cell(label), count_cell(reasons[reason]), count_cell(previous[reason]),
                           count_cell(abandoned[reason]), minutes_cell(median), minutes_cell(p90)])
    _n, median, p90 = wait_percentiles(now.by_key("claim_wait"))
    table.rows.append([text_cell("Alla"), count_cell(sum(reasons.values())), count_cell(sum(previous.values())),
                       count_cell(sum(abandoned.values())), minutes_cell(median), minutes_cell(p90)])

    histogram = now.by_key("claim_wait")
    wait_table = Table("vantetid", "Väntan tills ett ärende togs (öppettid)", ["Väntan", "Ärenden"])
    labels, values = [], []
    for low, high, label in WAIT_BUCKETS:
        n = sum(c for m, c in histogram.items() if int(m) >= low and (high is None or int(m) < high))
        cell = count_cell(n)
        wait_table.rows.append([text_cell(label), cell])
        labels.append(label)
        values.append(cell.number or 0)
    chart = Chart("diagram-vantetid", "Väntan tills ett ärende togs", "bar", labels,
                  [{"name": "Ärenden", "values": values}], wait_table.id)

    outcomes = Table("utfall", "Hur överlämningarna slutade", ["Utfall", "Ärenden"])
    found = now.by_key("handover_outcome")
    for outcome, label in OUTCOMES.items():
        outcomes.rows.append([text_cell(label), count_cell(found[outcome])])
    statuses = now.by_key("handover_status")
    for status, label in STATUSES.items():
        outcomes.rows.append([text_cell(label), count_cell(statuses[status])])
    return table, wait_table, chart, outcomes


def _contacts(now: Figures) -> Table:
    table = Table("kontaktforfragningar", "Kontaktförfrågningar",
                  ["Typ", "Förfrågningar"],
                  note="Löftet: hanterad samma eller nästa arbetsdag (svenska helgdagar och öppettider räknas).")
    for reason, label in CONTACT_REASONS.items():
        table.rows.append([text_cell(label), count_cell(now.by_key("contact")[reason])])
    promise = now.by_key("contact_promise")
    table.rows.append([text_cell("Hanterade inom löftet"), count_cell(promise["in_time"])])
    table.rows.append([text_cell("Hanterade för sent eller inte hanterade i tid"), count_cell(promise["late"])])
    table.rows.append([text_cell("Öppna, tiden har inte gått ut"), count_cell(promise["pending"])])
    table.rows.append([text_cell("Andel inom löftet"),
                       share_cell(promise["in_time"], promise["in_time"] + promise["late"])])
    return table


def _open_contacts(db: Session, calendar: WorkCalendar, now: datetime) -> Table:
    """Open contact requests right now, those at risk of missing the promise first."""
    table = Table("risk", "Öppna kontaktförfrågningar just nu, mest brådskande först",
                  ["Läge", "Senast hanterad", "Förfrågningar"])
    received = db.scalars(select(ContactRequest.created_at)
                          .where(ContactRequest.status == ContactStatus.OPEN.value)).all()
    db.rollback()
    today = calendar.local_day(now)
    groups: Counter[tuple[int, str, date]] = Counter()
    for moment in received:
        deadline = calendar.promise_deadline(moment)
        day = calendar.local_day(deadline)
        if deadline < now:
            groups[0, "Försenad", day] += 1
        elif day == today:
            groups[1, "Måste hanteras i dag", day] += 1
        else:
            groups[2, "Måste hanteras nästa arbetsdag eller senare", day] += 1
    for (_order, label, day), count in sorted(groups.items()):
        table.rows.append([text_cell(label), Cell(swedish_date(day)), count_cell(count)])
    if not groups:
        table.note = "Inga öppna kontaktförfrågningar."
    return table


def _topics(now: Figures, before: Figures, catalogue: Catalogue,
            editor_link: Callable[[str], str | None]) -> list[Table]:
    a, b = now.by_topic("topic"), before.by_topic("topic")
    answers = catalogue.ids("answer")
    top = Table("amnen", "Vanligaste ämnena", ["Ämne", "Samtal", "Föregående period", "Förändring"],
                note="Ett samtal räknas en gång per ämne som chattassistenten svarade med.")
    ranked = sorted((t for t in answers if a[t]), key=lambda t: (-a[t], t))[:15]
    for topic in ranked:
        top.rows.append([text_cell(catalogue.title(topic), editor_link(topic)), count_cell(a[topic]),
                         count_cell(b[topic]), change_cell(a[topic], b[topic])])

    # Only changes that can be shown: both counts 0 or at least MIN_COUNT, and not equal.
    moved = [t for t in answers if change_cell(a[t], b[t]).number]
    risers = sorted((t for t in moved if a[t] > b[t]), key=lambda t: (b[t] - a[t], t))[:5]
    fallers = sorted((t for t in moved if a[t] < b[t]), key=lambda t: (a[t] - b[t], t))[:5]
    changes = Table("forandringar", "Största ökningar och minskningar mot föregående period",
                    ["Ämne", "Riktning", "Samtal", "Föregående period", "Förändring"])
    for topic in risers + fallers:
        changes.rows.append([text_cell(catalogue.title(topic), editor_link(topic)),
                             Cell("Ökar" if a[topic] > b[topic] else "Minskar"),
                             count_cell(a[topic]), count_cell(b[topic]), change_cell(a[topic], b[topic])])

    authorities = Table("hanvisningar", "Hänvisningar till andra myndigheter",
                        ["Myndighet", "Samtal", "Föregående period"])
    by_authority: dict[str, list[int]] = {}
    for topic in catalogue.ids("referral"):
        counts = by_authority.setdefault(catalogue.topics[topic].authority, [0, 0])
        counts[0] += a[topic]
        counts[1] += b[topic]
    for authority, (x, y) in sorted(by_authority.items(), key=lambda item: (-item[1][0], item[0])):
        authorities.rows.append([text_cell(authority), count_cell(x), count_cell(y)])

    sensitive = Table("kansliga", "Känsliga ämnen (bara antal)", ["Ämne", "Samtal", "Föregående period"])
    for topic in catalogue.sensitive_ids:
        sensitive.rows.append([text_cell(catalogue.title(topic)), count_cell(a[topic]), count_cell(b[topic])])
    return [top, changes, authorities, sensitive]


def _ratings(now: Figures, catalogue: Catalogue, editor_link: Callable[[str], str | None]) -> list[Table]:
    stars = now.by_key("rating")
    total = sum(stars.values())
    distribution = Table("betyg", "Betyg efter samtal med Medborgarservice", ["Betyg", "Antal", "Andel"])
    for value in range(5, 0, -1):
        distribution.rows.append([text_cell(f"{value} av 5"), count_cell(stars[str(value)]),
                                  share_cell(stars[str(value)], total)])
    n, average = _rating_average(stars.items())
    distribution.rows.append([text_cell("Genomsnitt"), count_cell(n), _average_cell(n, average)])

    per_topic: dict[str, Counter[str]] = defaultdict(Counter)
    for (topic, key), count in now.pairs("rating").items():
        per_topic[topic][key] += count
    rows = []
    for topic, counted in per_topic.items():
        n, average = _rating_average(counted.items())
        rows.append((average if n >= MIN_COUNT and average is not None else math.inf, topic, n, average))
    rows.sort(key=lambda r: (r[0], r[1]))
    lowest = Table("betyg-per-amne", "Betyg per ämne, lägst först", ["Ämne", "Betyg", "Genomsnitt"],
                   note="Ämnen med färre än 5 betyg får inget genomsnitt och står sist.")
    for _sort, topic, n, average in rows:
        title = catalogue.title(topic) if topic else "Inget ämne"
        lowest.rows.append([text_cell(title, editor_link(topic) if topic else None), count_cell(n),
                            _average_cell(n, average)])
    return [distribution, lowest]


def to_csv(tables: Iterable[Table]) -> str:
    """Tables as CSV for Excel in Swedish: semicolons, the cells as the page shows them.

    Several tables follow each other, each with its title on a line of its own."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    tables = list(tables)
    for number, table in enumerate(tables):
        if len(tables) > 1:
            if number:
                writer.writerow([])
            writer.writerow([table.title])
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow([cell.text.replace("\u00a0", " ") for cell in row])
    return out.getvalue()
