"""The training worker: takes publish jobs one at a time, outside any API request.

    python -m mjolby.publishing.worker        (from api/, started by scripts/start.sh)

For each job it exports the knowledge store to a build folder, generates Rasa data there
(tools/generate.py --knowledge --out), trains with the bot environment at low
priority (nice), evaluates the candidate against the published model
(tools/model_lab.py) and leaves the candidate loaded so that editors can try
it, writing phase, percentage and heartbeat to the job as it goes.

Environment: BOT_PY (the bot environment's python; scripts/common.sh sets it),
RASA_CACHE_DIRECTORY and MJOLBY_EMBEDDING_CACHE (shared with scripts/train.sh).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import yaml
from sqlalchemy.exc import SQLAlchemyError

from mjolby.config import REPO_ROOT, Settings, get_settings
from mjolby.db import Database, utcnow
from mjolby.knowledge_store.service import export_knowledge
from mjolby.logging_setup import configure_logging
from mjolby.publishing import files, gate, service
from mjolby.publishing.models import JobStatus, PublishJob

log = logging.getLogger("mjolby.publishing.worker")

HELDOUT_FILE = REPO_ROOT / "tools/data/bench_messages.yml"
REGRESSION_FILE = REPO_ROOT / "knowledge/regression/messages.yml"
POLL_SECONDS = 2.0
NICE = 10
# Training progress: the share of components trained or restored from Rasa's cache, out of
# how many the last training had (or of the time it took, when that is further along).
DEFAULT_COMPONENTS = 5
COMPONENT_DONE = re.compile(r"Finished training component|Restored component")
TRAIN_FROM, TRAIN_TO = 12, 85
EVALUATE_TIMEOUT = 900
API_START_TIMEOUT = 180
# How often the worker looks for a model scripts/setup.sh trained with new code.
RELEASE_CHECK_SECONDS = 30.0


class JobFailed(Exception):
    """A step failed; the message (Swedish) is shown on the publish page."""


def _export_knowledge(db_factory: Callable[[], Any], target: Path) -> None:
    """The knowledge store's current state, as a folder in the format of knowledge/."""
    with db_factory() as db:
        export_knowledge(db, target)


def knowledge_snapshot(knowledge_dir: Path) -> dict[str, dict[str, Any]]:
    """{topic id: {title, answer, examples}} of a knowledge folder, for the per-topic diff."""
    snapshot: dict[str, dict[str, Any]] = {}
    for path in sorted([*knowledge_dir.glob("*.yml"), *(knowledge_dir / "behaviour").glob("*.yml")]):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "id" not in data or "examples" not in data:
            continue
        snapshot[str(data["id"])] = {
            "title": str(data.get("title") or ""),
            "answer": str(data.get("answer") or ""),
            "examples": sorted(" ".join(str(e).split()) for e in data.get("examples") or []),
        }
    return snapshot


def topic_changes(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What changed per topic between two snapshots: examples added and removed,
    answer edited, topics added and removed."""
    topics = []
    for topic_id in sorted(set(before) | set(after)):
        old, new = before.get(topic_id), after.get(topic_id)
        if old is None or new is None:
            topics.append({"topic_id": topic_id, "title": (new or old or {}).get("title", ""),
                           "status": "added" if old is None else "removed",
                           "added": (new or {}).get("examples", []), "removed": (old or {}).get("examples", []),
                           "answer_changed": False})
            continue
        added = sorted(set(new["examples"]) - set(old["examples"]))
        removed = sorted(set(old["examples"]) - set(new["examples"]))
        answer_changed = old.get("answer") != new.get("answer")
        if added or removed or answer_changed:
            topics.append({"topic_id": topic_id, "title": new.get("title", ""), "status": "changed",
                           "added": added, "removed": removed, "answer_changed": answer_changed})
    return {"topics": topics}


def _pump(stream: Any, lines: queue.Queue[str | None]) -> None:
    """Lines of a child's output into a queue; None at the end."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Worker:
    def __init__(self, settings: Settings, database: Database, bot_python: Path) -> None:
        self.settings = settings
        self.database = database
        self.bot_python = bot_python
        self.name = service.worker_name()
        self.stopping = False
        self.child: subprocess.Popen[str] | None = None
        self.lab: tuple[int, subprocess.Popen[str]] | None = None  # (job id, process)
        self.next_release_check = 0.0
        self.evaluated: set[int] = set()  # versions whose missing evaluation was attempted

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    # ----------------------------------------------------------------- loop

    def _wait_for_api(self) -> None:
        """Write nothing before the assistant is up: the API migrates the database and
        imports knowledge/ as it starts (SQLite allows one writer at a time), and
        Rasa's first model request registers the setup model as version 1."""
        url = f"http://127.0.0.1:{self.settings.api_port}/api/v1/health"
        deadline = time.monotonic() + API_START_TIMEOUT
        while not self.stopping and time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url, timeout=5).close()
                return
            except OSError:  # not listening yet, or the bot is not ready (503)
                time.sleep(1)

    def run_forever(self) -> None:
        self._wait_for_api()
        while not self.stopping:
            if time.monotonic() >= self.next_release_check and self._check_release():
                self.next_release_check = time.monotonic() + RELEASE_CHECK_SECONDS
            try:
                self._stop_stale_lab()
                with self.database.session() as db:
                    job = service.claim_next_job(db=db, worker=self.name, now=utcnow())
            except SQLAlchemyError as exc:
                # The API migrates the database when it starts; until then, wait.
                log.warning("database not ready, trying again: %s", type(exc).__name__)
                time.sleep(POLL_SECONDS)
                continue
            if job is None:
                time.sleep(POLL_SECONDS)
                continue
            self.run_job(job)
        self._stop_lab()

    def stop(self, *_: Any) -> None:
        self.stopping = True
        for process in (self.child, self.lab[1] if self.lab else None):
            if process is not None and process.poll() is None:
                process.terminate()

    def _check_release(self) -> bool:
        """A model setup trained with new code is published, or retrained on the knowledge
        store when editors changed it (service.release_setup_model). Then the published
        version is evaluated once when it has no figures (the topics list shows them).
        False when the database is not ready yet (try again)."""
        try:
            with self.database.session() as db:
                service.check_release(db=db, data_dir=self.data_dir, now=utcnow())
                version = service.current_version(db=db)
                if version is None or version.evaluation or version.id in self.evaluated:
                    return True
                path, version_id = service.version_file(version, self.data_dir), version.id
        except SQLAlchemyError as exc:
            log.warning("database not ready, trying again: %s", type(exc).__name__)
            time.sleep(POLL_SECONDS)
            return False
        except OSError:
            log.warning("could not check the setup model", exc_info=True)
            return True
        self.evaluated.add(version_id)
        out = files.models_dir(self.data_dir) / "build" / f"version-{version_id}.json"
        try:
            self._evaluate(path, None, self._regression_file(out.parent), out, serve_port=None)
            rows = json.loads(out.read_text(encoding="utf-8"))["candidate"]
        except (JobFailed, OSError, ValueError, KeyError):
            log.warning("could not evaluate the published model", exc_info=True)
            return True
        with self.database.session() as db:
            service.set_version_evaluation(db=db, version_id=version_id,
                                           evaluation=gate.compare(rows, None).as_dict())
        return True

    # ------------------------------------------------------------------ job

    def _progress(self, job_id: int, phase: str, percent: int) -> None:
        with self.database.session() as db:
            service.set_progress(db=db, job_id=job_id, phase=phase, percent=percent, now=utcnow())

    def run_job(self, job: PublishJob) -> None:
        self._stop_lab()
        build = files.build_dir(self.data_dir, job.id)
        try:
            self._clean_builds(keep=build)
            shutil.rmtree(build, ignore_errors=True)
            build.mkdir(parents=True)
            self._progress(job.id, "export", 3)
            _export_knowledge(self.database.session, build / "knowledge")
            snapshot = knowledge_snapshot(build / "knowledge")
            (build / "knowledge.json").write_text(json.dumps(snapshot, ensure_ascii=False), encoding="utf-8")

            self._progress(job.id, "generate", 7)
            self._generate(build)

            self._progress(job.id, "train", TRAIN_FROM)
            candidate = self._train(job.id, build)

            self._progress(job.id, "evaluate", 88)
            with self.database.session() as db:
                current = service.current_version(db=db)
                published = service.version_file(current, self.data_dir) if current is not None else None
                before = service.published_knowledge(db=db)
            if published is not None and not published.is_file():
                published = None
            port = _free_port()
            out = build / "evaluation.json"
            self._evaluate(candidate, published, self._regression_file(build), out, serve_port=port, job_id=job.id)
            rows = json.loads(out.read_text(encoding="utf-8"))
            comparison = gate.compare(rows["candidate"], rows.get("published"))
            evaluation = {**comparison.as_dict(), "titles": {k: v["title"] for k, v in snapshot.items()}}
            if before is None:
                before = knowledge_snapshot(REPO_ROOT / "knowledge")
            with self.database.session() as db:
                service.job_ready(db=db, job_id=job.id, model_path=candidate, evaluation=evaluation,
                                  changes=topic_changes(before, snapshot), lab_url=f"http://127.0.0.1:{port}",
                                  now=utcnow())
            log.info("job %s ready (held-out %.3f, gate %s)", job.id, comparison.candidate_accuracy,
                     "passed" if comparison.passed else "refused")
            if job.release_of:
                self._finish_release(job.id)
        except Exception as exc:  # noqa: BLE001 - any failure ends the job, the page says so
            self._stop_lab()
            log.exception("job %s failed", job.id)
            message = str(exc) if isinstance(exc, JobFailed) else "Ett oväntat fel uppstod. Se arbetsprocessens logg."
            with self.database.session() as db:
                service.job_failed(db=db, job_id=job.id, error=message, now=utcnow())

    def _finish_release(self, job_id: int) -> None:
        """A release job goes live by itself when the gate passed; when it did not, it
        waits on the publish page for an editor (or an admin's override)."""
        with self.database.session() as db:
            version = service.publish_release(db=db, job_id=job_id, data_dir=self.data_dir, now=utcnow())
        if version is not None:
            self._stop_lab()
            log.info("release job %s published as version %s", job_id, version.id)
        else:
            log.warning("release job %s was refused by the quality gate: it waits for an editor", job_id)

    def _clean_builds(self, keep: Path) -> None:
        root = keep.parent
        if root.is_dir():
            for folder in root.iterdir():
                if folder.is_dir() and folder != keep:
                    shutil.rmtree(folder, ignore_errors=True)

    def _generate(self, build: Path) -> None:
        for part in ("data", "domain"):
            shutil.copytree(REPO_ROOT / "bot" / part, build / "bot" / part)
        result = subprocess.run(
            [sys.executable, str(REPO_ROOT / "tools/generate.py"), "--knowledge", str(build / "knowledge"),
             "--out", str(build)], capture_output=True, text=True, check=False,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "api")})
        if result.returncode != 0:
            log.error("generate failed: %s", result.stderr[-4000:])
            raise JobFailed("Kunskapen kunde inte göras om till träningsdata: "
                            + " ".join(result.stderr.split())[:600])

    def _train(self, job_id: int, build: Path) -> Path:
        """`rasa train` at low priority; progress from the components done and the time
        the last training took (whichever is further), written every second."""
        rasa = self.bot_python.parent / "rasa"
        command = ["nice", "-n", str(NICE), str(rasa), "train", "--config", "config.yml",
                   "--domain", str(build / "bot/domain"), "--data", str(build / "bot/data"),
                   "--out", str(build), "--fixed-model-name", "candidate"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "RASA_TELEMETRY_ENABLED": "false"}
        last_run = files.models_dir(self.data_dir) / "build" / "last-training.json"
        try:
            expected = json.loads(last_run.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            expected = {}
        components, seconds = expected.get("components", DEFAULT_COMPONENTS), expected.get("seconds", 90)
        lines: queue.Queue[str | None] = queue.Queue()
        started = time.monotonic()
        done = 0
        with (build / "train.log").open("w", encoding="utf-8") as train_log:
            self.child = subprocess.Popen(command, cwd=REPO_ROOT / "bot", env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True, bufsize=1)
            threading.Thread(target=_pump, args=(self.child.stdout, lines), daemon=True).start()
            finished = False
            while not finished:
                deadline = time.monotonic() + 1.0
                while (wait := deadline - time.monotonic()) > 0:
                    try:
                        line = lines.get(timeout=wait)
                    except queue.Empty:
                        break
                    if line is None:
                        finished = True
                        break
                    train_log.write(line)
                    if COMPONENT_DONE.search(line):
                        done += 1
                elapsed = time.monotonic() - started
                share = min(0.97, max(done / max(1, components), elapsed / max(1.0, seconds)))
                self._progress(job_id, "train", int(TRAIN_FROM + (TRAIN_TO - TRAIN_FROM) * share))
            code = self.child.wait()
            self.child = None
        model = build / "candidate.tar.gz"
        if code != 0 or not model.is_file():
            raise JobFailed("Träningen misslyckades. Se train.log i byggmappen.")
        last_run.write_text(json.dumps({"components": max(1, done), "seconds": time.monotonic() - started}))
        return model

    def _regression_file(self, folder: Path) -> Path:
        items = [{"text": i.text, "expect": i.topic_id} for i in self._db_regression()]
        if REGRESSION_FILE.is_file():
            data = yaml.safe_load(REGRESSION_FILE.read_text(encoding="utf-8")) or {}
            items = [*data.get("items", []), *items]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "regression.json"
        path.write_text(json.dumps({"items": items}, ensure_ascii=False), encoding="utf-8")
        return path

    def _db_regression(self) -> list[Any]:
        with self.database.session() as db:
            return service.regression_items(db=db)

    def _evaluate(self, candidate: Path, published: Path | None, regression: Path, out: Path, *,
                  serve_port: int | None, job_id: int | None = None) -> None:
        command = ["nice", "-n", str(NICE), str(self.bot_python), str(REPO_ROOT / "tools/model_lab.py"),
                   "--model", str(candidate), "--heldout", str(HELDOUT_FILE), "--regression", str(regression),
                   "--out", str(out)]
        if published is not None:
            command += ["--published", str(published)]
        if serve_port is not None:
            command += ["--serve-port", str(serve_port)]
        out.unlink(missing_ok=True)
        log_file = (out.parent / "lab.log").open("w", encoding="utf-8")
        process = subprocess.Popen(command, cwd=REPO_ROOT / "bot", stdout=log_file, stderr=subprocess.STDOUT,
                                   text=True, start_new_session=True)
        log_file.close()
        if job_id is not None:
            self.lab = (job_id, process)
        started = time.monotonic()
        while not out.is_file():
            if process.poll() is not None or self.stopping:
                if process.poll() is None:
                    process.terminate()
                raise JobFailed("Utvärderingen av den nya modellen misslyckades.")
            if time.monotonic() - started > EVALUATE_TIMEOUT:
                process.terminate()
                raise JobFailed("Utvärderingen tog för lång tid.")
            if job_id is not None:
                self._progress(job_id, "evaluate", min(98, 88 + int((time.monotonic() - started) / 6)))
            time.sleep(0.5)
        if serve_port is None:
            process.wait(timeout=60)

    # ---------------------------------------------------------- the lab

    def _stop_stale_lab(self) -> None:
        """Try-it stays up while its candidate waits to be published, no longer."""
        if self.lab is None:
            return
        job_id, process = self.lab
        with self.database.session() as db:
            job = db.get(PublishJob, job_id)
            waiting = job is not None and job.status == JobStatus.READY.value
        if not waiting or process.poll() is not None:
            self._stop_lab()

    def _stop_lab(self) -> None:
        if self.lab is None:
            return
        _, process = self.lab
        self.lab = None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mjolby.publishing.worker",
                                     description="Train, evaluate and stage models for publishing.")
    parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings)
    bot_python = Path(os.environ.get("BOT_PY", "")).expanduser()
    if not bot_python.is_file():
        print("BOT_PY must point at the bot environment's python (source scripts/common.sh)", file=sys.stderr)
        return 2
    worker = Worker(settings, Database(settings.database_url), bot_python)
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    worker.run_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
