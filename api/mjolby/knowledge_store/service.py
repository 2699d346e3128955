"""The knowledge store: import from knowledge/, list, check, save, retire, export, catalogue.

The database is the run-time store; knowledge/ in git stays the reviewed
source. `import_knowledge` runs when the API starts (idempotent): new topics
are inserted, a topic never edited in the console follows its file, and a
topic edited in the console keeps the console's version (`file_differs` says
when the file has changed since). `export_knowledge` writes the store back as
a knowledge folder, so the repository can catch up and the model be trained.

Every save goes through `rules.check_topic` (the same rules as
`make validate`), is refused when the topic changed since the editor opened it
(`version`), and is kept as a revision (who, when, before and after) and in
the audit log. Functions take the session as `db=` and commit.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from mjolby.db import WRITE_NOW, utcnow
from mjolby.errors import Conflict, InvalidInput, NotFound
from mjolby.knowledge_store import rules
from mjolby.knowledge_store.models import KnowledgeFile, KnowledgeRevision, KnowledgeTopic
from mjolby.knowledge_store.rules import Knowledge, Problem, Topic
from mjolby.staff.service import StaffContext, audit

logger = logging.getLogger(__name__)

SYSTEM_EMAIL = "knowledge/"  # revisions made by importing the knowledge folder
NEAR_DUPLICATE = 0.8  # share of words two examples have in common to be "nearly the same"
CONFLICT_TEXT = ("Någon annan har sparat ämnet medan du redigerade det. Din text finns kvar nedan: "
                 "jämför med den sparade versionen och spara igen.")
INVALID_TEXT = "Ämnet sparades inte. Rätta det som är markerat och spara igen."


@dataclass
class TopicRecord:
    id: str
    kind: str
    title: str
    version: int
    edited: bool
    file_differs: bool
    retired: bool
    updated_at: datetime
    updated_by_email: str | None
    data: dict[str, Any]

    @property
    def owner(self) -> str:
        return self.data.get("owner") or ""

    @property
    def reviewed(self) -> str:
        return str(self.data.get("reviewed") or "")

    @property
    def examples(self) -> list[str]:
        return list(self.data.get("examples") or [])

    @property
    def answer(self) -> str:
        return self.data.get("answer") or ""


@dataclass
class RevisionRecord:
    id: int
    topic_id: str
    version: int
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    by_email: str
    created_at: datetime


@dataclass
class CheckResult:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    topic: Topic | None = None


class TopicInvalid(InvalidInput):
    """A save the rules refuse; `errors` name the field each problem is in."""

    def __init__(self, errors: list[Problem], warnings: list[Problem]) -> None:
        super().__init__(INVALID_TEXT, "topic_invalid")
        self.errors = errors
        self.warnings = warnings


class TopicConflict(Conflict):
    """The topic was saved by someone else since `expected_version`."""

    def __init__(self, current: TopicRecord) -> None:
        super().__init__(CONFLICT_TEXT, "topic_conflict")
        self.current = current


# -- reading ---------------------------------------------------------------------


def _record(row: KnowledgeTopic) -> TopicRecord:
    return TopicRecord(id=row.id, kind=row.kind, title=row.title, version=row.version, edited=row.edited,
                       file_differs=row.file_differs, retired=row.retired, updated_at=row.updated_at,
                       updated_by_email=row.updated_by_email, data=json.loads(row.data))


def list_topics(db: Session) -> list[TopicRecord]:
    rows = list(db.scalars(select(KnowledgeTopic).order_by(KnowledgeTopic.title)))
    db.commit()
    return [_record(r) for r in rows]


def console_edited_topics(db: Session) -> list[str]:
    """Ids of the topics whose stored version differs from knowledge/ because an editor
    changed (or created, or retired) them in the console; empty when the store is knowledge/."""
    ids = list(db.scalars(select(KnowledgeTopic.id).where(KnowledgeTopic.edited.is_(True))
                          .order_by(KnowledgeTopic.id)))
    db.commit()
    return ids


def get_topic(db: Session, topic_id: str) -> TopicRecord:
    row = db.get(KnowledgeTopic, topic_id)
    db.commit()
    if row is None:
        raise NotFound("Ämnet finns inte.", "topic_not_found")
    return _record(row)


def revisions(db: Session, topic_id: str) -> list[RevisionRecord]:
    """The topic's revisions, newest first."""
    rows = list(db.scalars(select(KnowledgeRevision).where(KnowledgeRevision.topic_id == topic_id)
                           .order_by(KnowledgeRevision.id.desc())))
    db.commit()
    return [RevisionRecord(id=r.id, topic_id=r.topic_id, version=r.version, action=r.action,
                           before=json.loads(r.before) if r.before else None, after=json.loads(r.after),
                           by_email=r.by_email, created_at=r.created_at) for r in rows]


def _files(db: Session) -> dict[str, str]:
    return {f.name: f.content for f in db.scalars(select(KnowledgeFile))}


def _catalogue_entries(files: dict[str, str], rows: list[KnowledgeTopic]) -> dict[str, dict]:
    """topics.yml, plus the topics created in the console since."""
    entries = rules.parse_catalogue(files.get(rules.CATALOGUE_FILE, ""))
    for row in rows:
        entries.setdefault(row.id, {"id": row.id, "kind": row.kind, "title": row.title})
    return entries


def _knowledge(db: Session) -> Knowledge:
    """The store as the rules see a knowledge folder (nothing re-validated)."""
    files = _files(db)
    rows = list(db.scalars(select(KnowledgeTopic)))
    catalogue = _catalogue_entries(files, rows)
    topics: dict[str, Topic] = {}
    retired: dict[str, Topic] = {}
    for row in rows:
        data = json.loads(row.data)
        topic = Topic(id=row.id, kind=row.kind, title=row.title, examples=list(data.get("examples") or []),
                      answer=data.get("answer"), child_answer=data.get("child_answer"),
                      links=list(data.get("links") or []), buttons=list(data.get("buttons") or []),
                      owner=data.get("owner"), reviewed=data.get("reviewed"),
                      sources=list(data.get("sources") or []), confidence=data.get("confidence"),
                      retired=row.retired, source=f"knowledge/{row.id}.yml")
        (retired if row.retired else topics)[row.id] = topic
    behaviours: dict[str, Topic] = {}
    helpers: dict[str, rules.HelperIntent] = {}
    for name, content in sorted(files.items()):
        if not name.startswith("behaviour/") or not name.endswith((".yml", ".yaml")):
            continue
        item = rules.check_behaviour(yaml.safe_load(content), catalogue, f"knowledge/{name}", [])
        if isinstance(item, Topic):
            behaviours[item.id] = item
        elif isinstance(item, rules.HelperIntent):
            helpers[item.intent] = item
    return Knowledge(catalogue=catalogue, topics=topics, behaviours=behaviours, helpers=helpers,
                     retired=retired)


# -- the catalogue the bot's actions read ------------------------------------------

_cache_lock = threading.Lock()
_cache: dict[str, Any] = {}


def _state_token(db: Session) -> tuple:
    """Changes whenever a topic or file is saved (cheap: no topic data is read)."""
    topics = tuple(db.execute(select(KnowledgeTopic.id, KnowledgeTopic.version, KnowledgeTopic.updated_at,
                                     KnowledgeTopic.retired).order_by(KnowledgeTopic.id)))
    files = tuple(db.execute(select(KnowledgeFile.name, KnowledgeFile.updated_at).order_by(KnowledgeFile.name)))
    last_revision = db.scalar(select(func.max(KnowledgeRevision.id)))
    return (str(db.get_bind().engine.url), topics, files, last_revision)


def _catalogue_and_etag(db: Session) -> tuple[dict[str, Any], str]:
    token = _state_token(db)
    with _cache_lock:
        if _cache.get("token") == token:
            db.commit()
            return _cache["catalogue"], _cache["etag"]
    k = _knowledge(db)
    organisation = yaml.safe_load(_files(db).get("organisation.yml", "")) or {}
    db.commit()
    data = rules.build_catalogue(k, organisation)
    etag = '"' + hashlib.sha256(rules.catalogue_json(data).encode()).hexdigest()[:32] + '"'
    with _cache_lock:
        _cache.update(token=token, catalogue=data, etag=etag)
    return data, etag


def catalogue(db: Session) -> dict[str, Any]:
    """The same shape as bot/actions/catalogue.json, from the store."""
    return _catalogue_and_etag(db)[0]


def catalogue_etag(db: Session) -> str:
    return _catalogue_and_etag(db)[1]


# -- checking ----------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.casefold()))


def _nearly_same(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return False
    if a == b:
        return True
    return len(a) >= 3 and len(b) >= 3 and len(a & b) / len(a | b) >= NEAR_DUPLICATE


def check_topic(db: Session, topic_id: str, data: dict[str, Any], *,
                previous_examples: list[str] | None = None, new_kind: str | None = None) -> CheckResult:
    """Check a topic as it would be saved: the rules, plus the other topics' examples.

    An example that is already another topic's is an error; one that is nearly
    the same as another topic's is a warning (only for examples not already saved).
    """
    k = _knowledge(db)
    db.commit()
    catalogue = dict(k.catalogue)
    if new_kind is not None:
        catalogue[topic_id] = {"id": topic_id, "kind": new_kind, "title": data.get("title") or topic_id}
    result = CheckResult()
    result.topic = rules.check_topic({**data, "id": data.get("id", topic_id)}, catalogue, result.errors,
                                     expected_id=topic_id)
    if result.topic is None or result.topic.retired:
        return result
    others = [(t.id, t.title, t.examples) for t in [*k.topics.values(), *k.behaviours.values()] if t.id != topic_id]
    others += [(h.intent, h.intent, h.examples) for h in k.helpers.values()]
    owners = {rules.normalise_example(e): title for _, title, examples in others for e in examples}
    old = {rules.normalise_example(e) for e in previous_examples or []}
    other_words = [(title, e, _words(e)) for _, title, examples in others for e in examples]
    for example in result.topic.examples:
        key = rules.normalise_example(example)
        if key in owners:
            result.errors.append(Problem(
                "examples", f"the example {example!r} is also an example of another topic",
                f"Exempelfrågan ”{example}” finns redan under ämnet ”{owners[key]}”. "
                "En fråga kan bara höra till ett ämne.",
            ))
        elif key not in old:
            words = _words(example)
            for title, other, other_set in other_words:
                if _nearly_same(words, other_set):
                    result.warnings.append(Problem(
                        "examples", "",
                        f"Exempelfrågan ”{example}” liknar ”{other}” under ämnet ”{title}”. "
                        "Kontrollera att den hör till rätt ämne.",
                    ))
                    break
    return result


# -- saving ------------------------------------------------------------------------


def _context(by: Any) -> StaffContext:
    """Who acts, for the audit log: a signed-in StaffContext or a StaffUser."""
    if isinstance(by, StaffContext):
        return by
    return StaffContext(staff_id=by.id, email=by.email, display_name=getattr(by, "display_name", "") or "",
                        role=str(getattr(by, "role", "")), csrf_token="", token_hash="")


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _changed_fields(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    keys = sorted(set(before or {}) | set(after))
    return [k for k in keys if (before or {}).get(k) != after.get(k)]


def _add_revision(db: Session, *, topic_id: str, version: int, action: str, before: dict | None,
                  after: dict, by: StaffContext | None, now: datetime) -> None:
    db.add(KnowledgeRevision(topic_id=topic_id, version=version, action=action,
                             before=_dump(before) if before is not None else None, after=_dump(after),
                             by_id=by.staff_id if by else None, by_email=by.email if by else SYSTEM_EMAIL,
                             created_at=now))


def save_topic(db: Session, topic_id: str, data: dict[str, Any], expected_version: int, by: Any, *,
               now: datetime | None = None, action: str = "edit") -> TopicRecord:
    """Save the topic's fields if it is still at `expected_version`. Commits.

    Raises TopicInvalid (nothing saved) or TopicConflict (someone saved first).
    Returns the saved topic; check warnings with `check_topic` before if needed.
    """
    now = now or utcnow()
    actor = _context(by)
    current = get_topic(db, topic_id)
    if current.version != expected_version:
        raise TopicConflict(current)
    checked = check_topic(db, topic_id, {**data, "retired": current.retired or data.get("retired")},
                          previous_examples=current.examples)
    if checked.errors or checked.topic is None:
        raise TopicInvalid(checked.errors, checked.warnings)
    after = checked.topic.as_data()
    changed = _changed_fields(current.data, after)
    if not changed:
        return current
    updated = db.execute(
        update(KnowledgeTopic)
        .where(KnowledgeTopic.id == topic_id, KnowledgeTopic.version == expected_version)
        .values(data=_dump(after), title=checked.topic.title, version=expected_version + 1, edited=True,
                retired=checked.topic.retired, updated_at=now, updated_by_email=actor.email)
    )
    if updated.rowcount != 1:
        db.rollback()
        raise TopicConflict(get_topic(db, topic_id))
    _add_revision(db, topic_id=topic_id, version=expected_version + 1, action=action, before=current.data,
                  after=after, by=actor, now=now)
    audit(db=db, staff=actor, action=f"{action}_topic", now=now,
          detail=f"{topic_id}: version {expected_version} → {expected_version + 1} ({', '.join(changed)})")
    db.commit()
    return get_topic(db, topic_id)


def create_topic(db: Session, topic_id: str, kind: str, data: dict[str, Any], by: Any, *,
                 now: datetime | None = None) -> TopicRecord:
    """A new topic (answer, sensitive or referral). Its id can never be used again. Commits."""
    now = now or utcnow()
    actor = _context(by)
    errors: list[Problem] = []
    if not rules.ID_RE.match(topic_id or ""):
        errors.append(Problem("id", "", "Id får bara innehålla små bokstäver a–z, siffror och _ "
                                        "och måste börja med en bokstav (3–60 tecken)."))
    if kind not in rules.TOPIC_KINDS:
        errors.append(Problem("kind", "", "Välj en av typerna i listan."))
    files = _files(db)
    taken = set(rules.parse_catalogue(files.get(rules.CATALOGUE_FILE, ""))) | {
        r for r in db.scalars(select(KnowledgeTopic.id))}
    if topic_id in taken:
        errors.append(Problem("id", "", f"Id ”{topic_id}” används redan eller har använts. Välj ett annat."))
    if errors:
        raise TopicInvalid(errors, [])
    checked = check_topic(db, topic_id, {**data, "id": topic_id}, new_kind=kind)
    if checked.errors or checked.topic is None:
        raise TopicInvalid(checked.errors, checked.warnings)
    after = checked.topic.as_data()
    db.add(KnowledgeTopic(id=topic_id, kind=kind, title=checked.topic.title, data=_dump(after), version=1,
                          file_hash=None, edited=True, file_differs=False, retired=False, created_at=now,
                          updated_at=now, updated_by_email=actor.email))
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise TopicInvalid([Problem("id", "", f"Id ”{topic_id}” används redan. Välj ett annat.")], []) from None
    _add_revision(db, topic_id=topic_id, version=1, action="create", before=None, after=after, by=actor, now=now)
    audit(db=db, staff=actor, action="create_topic", now=now, detail=f"{topic_id}: nytt ämne ({kind})")
    db.commit()
    return get_topic(db, topic_id)


def retire_topic(db: Session, topic_id: str, expected_version: int, by: Any, *,
                 now: datetime | None = None) -> TopicRecord:
    """The topic stops answering (the bot treats it as not understood); its id stays taken. Commits."""
    current = get_topic(db, topic_id)
    return save_topic(db, topic_id, {**current.data, "retired": True}, expected_version, by, now=now,
                      action="retire")


def add_example(db: Session, topic_id: str, text: str, by: Any, *, now: datetime | None = None) -> TopicRecord:
    """Add one example question to a topic (e.g. from the unanswered-question inbox). Commits.

    Refused (TopicInvalid) when the topic already has it or another topic has it.
    """
    text = " ".join((text or "").split())
    if not text:
        raise TopicInvalid([Problem("examples", "", "Skriv en exempelfråga.")], [])
    for _ in range(3):
        current = get_topic(db, topic_id)
        if current.retired:
            raise TopicInvalid([Problem("", "", "Ämnet är avvecklat och tar inte emot nya exempelfrågor.")], [])
        if rules.normalise_example(text) in {rules.normalise_example(e) for e in current.examples}:
            raise TopicInvalid([Problem("examples", "", f"Exempelfrågan ”{text}” finns redan under ämnet.")], [])
        try:
            return save_topic(db, topic_id, {**current.data, "examples": [*current.examples, text]},
                              current.version, by, now=now, action="add_example")
        except TopicConflict:
            continue  # someone saved in between: add it to their version
    raise TopicConflict(get_topic(db, topic_id))


# -- importing knowledge/ and exporting it ---------------------------------------------


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _knowledge_files(knowledge_dir: Path) -> dict[str, str]:
    found = {}
    for path in sorted(knowledge_dir.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(knowledge_dir).parts):
            found[path.relative_to(knowledge_dir).as_posix()] = path.read_text(encoding="utf-8")
    return found


@dataclass
class ImportResult:
    inserted: int = 0
    updated: int = 0
    kept: int = 0  # edited in the console; their file differs


def _imported(texts: dict[str, str], stored: dict[str, str]) -> bool:
    return set(texts) <= set(stored) and all(stored[n] == c for n, c in texts.items())


def import_knowledge(db: Session, knowledge_dir: Path, *, now: datetime | None = None) -> ImportResult:
    """Bring the store up to date with the knowledge folder (idempotent). Commits.

    An invalid folder changes nothing (KnowledgeError); `make validate` says why.
    """
    now = now or utcnow()
    texts = _knowledge_files(knowledge_dir)
    result = ImportResult()
    if _imported(texts, _files(db)):
        db.commit()
        return result  # nothing changed since the last start
    k = rules.load(knowledge_dir)
    # Read and write in one transaction that holds SQLite's write lock from its start:
    # one that read first fails ("database is locked") when another process writes
    # in between, as citizens' conversations and the training worker do.
    db.commit()
    db.connection(execution_options={WRITE_NOW: True})
    stored = _files(db)
    if _imported(texts, stored):
        db.commit()
        return result  # another process imported it meanwhile
    rows = {r.id: r for r in db.scalars(select(KnowledgeTopic))}
    for topic in [*k.topics.values(), *k.retired.values()]:
        name = f"{topic.id}.yml"
        file_hash = _hash(texts.get(name, ""))
        data = topic.as_data()
        row = rows.get(topic.id)
        if row is not None and row.kind != topic.kind:
            row.kind = topic.kind  # topics.yml changed the topic's kind
        if row is None:
            db.add(KnowledgeTopic(id=topic.id, kind=topic.kind, title=topic.title, data=_dump(data), version=1,
                                  file_hash=file_hash, edited=False, file_differs=False, retired=topic.retired,
                                  created_at=now, updated_at=now, updated_by_email=None))
            db.flush()
            _add_revision(db, topic_id=topic.id, version=1, action="import", before=None, after=data, by=None,
                          now=now)
            result.inserted += 1
        elif row.file_hash == file_hash:
            continue
        elif json.loads(row.data) == data:
            # The file caught up with the console (knowledge-export was committed).
            row.file_hash, row.edited, row.file_differs = file_hash, False, False
        elif row.edited:
            row.file_differs = True
            row.file_hash = file_hash
            result.kept += 1
        else:
            before = json.loads(row.data)
            row.data, row.title, row.retired = _dump(data), topic.title, topic.retired
            row.version += 1
            row.file_hash, row.updated_at, row.updated_by_email = file_hash, now, None
            _add_revision(db, topic_id=topic.id, version=row.version, action="import", before=before, after=data,
                          by=None, now=now)
            result.updated += 1
    for name, content in texts.items():
        if stored.get(name) != content:
            existing = db.get(KnowledgeFile, name)
            if existing is None:
                db.add(KnowledgeFile(name=name, content=content, updated_at=now))
            else:
                existing.content, existing.updated_at = content, now
    db.commit()
    return result


def import_on_start(db: Session, knowledge_dir: Path, *, attempts: int = 5) -> None:
    """What the API runs when it starts: import, and say what happened (never fail the start).

    The import takes SQLite's write lock as it begins (so another process writing at
    the same moment, a second API or the training worker, makes it wait rather than
    fail); should the database stay busy past its timeout, it is tried again with a
    growing pause.
    """
    for attempt in range(1, attempts + 1):
        try:
            result = import_knowledge(db, knowledge_dir)
            break
        except rules.KnowledgeError as exc:
            db.rollback()
            logger.warning("knowledge/ not imported: %d problem(s); run `make validate`", len(exc.problems))
            return
        except IntegrityError:
            db.rollback()  # another API process imported at the same moment
            return
        except OperationalError as exc:
            db.rollback()
            if attempt == attempts:
                logger.warning("knowledge/ not imported (%s); the store keeps what it had", type(exc).__name__)
                return
            time.sleep(min(5.0, 0.25 * 2 ** (attempt - 1)))
    if result.inserted or result.updated or result.kept:
        logger.info("knowledge/ imported: %d new, %d updated, %d edited in the console kept",
                    result.inserted, result.updated, result.kept)


def topic_yaml(data: dict[str, Any]) -> str:
    """A topic's fields as a knowledge file."""
    ordered = {k: data[k] for k in rules.FIELD_ORDER if data.get(k) not in (None, [], "")}
    return yaml.safe_dump(ordered, allow_unicode=True, sort_keys=False, width=100)


def _catalogue_file(content: str, new: list[KnowledgeTopic]) -> str:
    """topics.yml with a line for each topic created in the console."""
    if not new:
        return content
    lines = [content.rstrip("\n"), "  # Created in the editors' console"]
    for row in sorted(new, key=lambda r: r.id):
        title = json.dumps(row.title, ensure_ascii=False)
        lines.append(f"  - {{id: {row.id}, kind: {row.kind}, title: {title}}}")
    return "\n".join(lines) + "\n"


def export_knowledge(db: Session, target_dir: Path) -> None:
    """Write the store as a knowledge folder (the format of knowledge/), which
    `make validate` and tools/generate.py read. Files of topics never edited in
    the console are written exactly as they were imported."""
    files = _files(db)
    rows = list(db.scalars(select(KnowledgeTopic)))
    db.commit()
    known = set(rules.parse_catalogue(files.get(rules.CATALOGUE_FILE, "")))
    target_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = target_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name == rules.CATALOGUE_FILE:
            content = _catalogue_file(content, [r for r in rows if r.id not in known])
        path.write_text(content, encoding="utf-8")
    for row in rows:
        name = f"{row.id}.yml"
        if row.edited or name not in files:
            (target_dir / name).write_text(topic_yaml(json.loads(row.data)), encoding="utf-8")
