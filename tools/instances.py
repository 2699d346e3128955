"""Running the assistant twice, side by side: this checkout ("new") and an
earlier version ("old", any git ref, today's pipeline by default).

Each instance is started by its own scripts/start.sh on its own ports, in a
fresh data folder of its own (so every conversation starts from an empty
database), from the model its own set-up trained, and stopped by its own
scripts/stop.sh. The old version lives in a git worktree that
scripts/baseline.sh prepares. Used by tools/bench.py and tools/evaluate.py.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BASELINE_REF = "a712de4"
CACHE_DIR = Path(os.environ.get("MJOLBY_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                 / "mjolby-chat")
# Settings that would point an instance at another instance's database,
# services or secrets; each instance derives its own from DATA_DIR and ports.
NOT_INHERITED = {
    "DATABASE_URL", "REDIS_URL", "TRACKER_DATABASE_URL", "RASA_TRACKER_DB", "RASA_ENDPOINTS",
    "INTERNAL_API_TOKEN", "PUBLIC_BASE_URL", "API_HOST", "RASA_URL", "ACTION_SERVER_URL",
    "ACTION_ENDPOINT_URL", "API_INTERNAL_URL", "PYTHONPATH",
}


@dataclass
class Instance:
    label: str        # "new" or "old"
    repo: Path        # the checkout whose scripts run it
    model: Path       # its trained model
    fingerprint: str  # of the model's inputs, as its scripts/train.sh names it
    logs: Path        # where its own set-up writes training logs
    api_port: int
    ref: str = ""     # the git ref of an old instance
    _data_dir: Path | None = field(default=None, repr=False)

    @property
    def data_dir(self) -> Path:
        """A fresh data folder of its own, made on first use and removed by stop()."""
        if self._data_dir is None:
            self._data_dir = Path(tempfile.mkdtemp(prefix="mjolby-instance-"))
        return self._data_dir

    @property
    def name(self) -> str:
        return f"old ({self.ref})" if self.ref else self.label

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port + 1}"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        env.update(
            DATA_DIR=str(self.data_dir), API_PORT=str(self.api_port), RASA_PORT=str(self.api_port + 1),
            ACTIONS_PORT=str(self.api_port + 2), ENVIRONMENT="development", LOG_LEVEL="WARNING",
            # One measuring client speaks for many citizens.
            RATE_LIMIT_CLIENT_PER_MINUTE="0", RATE_LIMIT_CLIENT_READS_PER_MINUTE="0",
            RATE_LIMIT_CONVERSATION_PER_MINUTE="100000",
            # No training worker: it would share the CPU with what is measured. (Older
            # checkouts have none and ignore the setting.)
            PUBLISH_WORKER="0",
        )
        env.update(extra)
        return env

    def start(self) -> None:
        """Start it in the background and wait until its API says the bot is ready."""
        models = self.data_dir / "models"
        models.mkdir(parents=True, exist_ok=True)
        (models / "current.tar.gz").unlink(missing_ok=True)
        (models / "current.tar.gz").symlink_to(self.model.resolve())
        log = self.data_dir / "start.log"
        with log.open("w") as out:
            done = subprocess.run([str(self.repo / "scripts" / "start.sh")], env=self.env(), stdout=out,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False)
        if done.returncode != 0:
            tail = log.read_text(errors="replace").splitlines()[-15:]
            raise RuntimeError(f"{self.name} did not start ({self.repo}):\n  " + "\n  ".join(tail))

    def stop(self, keep_data: bool = False) -> None:
        subprocess.run([str(self.repo / "scripts" / "stop.sh")], env=self.env(), check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self._data_dir = None

    def bot_python(self) -> str:
        """The bot environment's Python of this checkout (its scripts/common.sh says where)."""
        env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        out = subprocess.run(["bash", "-c", 'source scripts/common.sh >/dev/null; echo "$BOT_PY"'],
                             cwd=self.repo, env=env, capture_output=True, text=True, check=True)
        return out.stdout.strip()


def trained(label: str, repo: Path, data_dir: Path, port: int, ref: str = "") -> Instance:
    """An instance of the model that repo's set-up put in data_dir: the cached
    copy when there is one, which a later training cannot replace mid-run."""
    current = data_dir / "models" / "current.tar.gz"
    if not current.exists():
        raise SystemExit(f"no trained model at {current}; run scripts/setup.sh in {repo}")
    marker = data_dir / "models" / "current.fingerprint"
    fingerprint = marker.read_text().strip() if marker.exists() else ""
    cached = CACHE_DIR / "models" / f"{fingerprint}.tar.gz"
    model = cached if fingerprint and cached.exists() else current
    return Instance(label, repo, model, fingerprint, data_dir / "logs", port, ref=ref)


def prepare_baseline(ref: str) -> Path:
    """The worktree of `ref`, set up and trained (or its cached model reused)."""
    done = subprocess.run([str(REPO / "scripts" / "baseline.sh"), ref], stdout=subprocess.PIPE, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"preparing the baseline {ref} failed (scripts/baseline.sh {ref})")
    return Path(done.stdout.strip().splitlines()[-1])


def instances_for(args: argparse.Namespace, base_port: int, new: bool = True) -> list[Instance]:
    """New (this checkout) unless told not to and, unless --no-baseline, old on base_port + 10."""
    found = []
    if new:
        found.append(trained("new", REPO, Path(os.environ.get("DATA_DIR") or REPO / "var"), base_port))
    if args.baseline_ref and args.baseline_ref.lower() != "none":
        worktree = prepare_baseline(args.baseline_ref)
        found.append(trained("old", worktree, worktree / "var", base_port + 10, ref=args.baseline_ref))
    return found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baseline-ref", default=os.environ.get("BASELINE_REF", DEFAULT_BASELINE_REF),
                        help="git ref of the old version to compare with (BASELINE_REF; 'none': no comparison)")
    parser.add_argument("--no-baseline", dest="baseline_ref", action="store_const", const="none",
                        help="measure this checkout only")


class Running:
    """Context manager: start the instances in parallel, stop them however the run ends."""

    def __init__(self, instances: list[Instance]):
        self.instances = instances

    def __enter__(self) -> list[Instance]:
        # A terminated run stops its instances too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        if not self.instances:
            return []
        print("Starting " + ", ".join(f"{i.name} on {i.api_url}" for i in self.instances), file=sys.stderr)
        began = time.monotonic()
        try:
            with ThreadPoolExecutor(max(1, len(self.instances))) as pool:
                list(pool.map(Instance.start, self.instances))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        print(f"  ready after {time.monotonic() - began:.0f} s", file=sys.stderr)
        return self.instances

    def __exit__(self, *exc) -> None:
        for inst in self.instances:
            inst.stop()


def model_size_mb(model: Path) -> float:
    return model.resolve().stat().st_size / 1e6


TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")


def retrain_seconds(inst: Instance, extra_logs: list[Path] = ()) -> tuple[float | None, str]:
    """How long the model took to train, and where that figure comes from.

    scripts/train.sh (and scripts/baseline.sh, for versions whose train.sh
    does not) store the time of a whole training next to the cached model;
    otherwise the first and last time stamp of Rasa's lines in a training log
    that names this model's fingerprint (start-up before the first line is not
    counted).
    """
    from datetime import datetime  # noqa: PLC0415

    fingerprint = inst.fingerprint
    timed = CACHE_DIR / "models" / f"{fingerprint}.train-seconds"
    if fingerprint and timed.exists():
        return float(timed.read_text().strip()), f"timed when it was trained ({timed.name})"
    logs = [*extra_logs, inst.logs / "train.log", inst.logs / "baseline-train.log"]
    for log in logs:
        if not log.exists():
            continue
        text = log.read_text(errors="replace")
        if fingerprint and fingerprint not in text:
            continue
        stamps = [datetime.fromisoformat(m.group(1)) for m in map(TIMESTAMP.match, text.splitlines()) if m]
        if len(stamps) >= 2:
            return (stamps[-1] - stamps[0]).total_seconds(), f"from {log}"
    return None, "no training log of this model"
