"""Helpers of the cluster fault tests: the private PostgreSQL and Redis, the
running cluster's processes, a load of citizens and a reconnecting event stream."""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from mjolby.rasa_client import ReplicaRing
from mjolby.texts import BOT_UNREACHABLE, MEDBORGARSERVICE_PHONE

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = [
    "Hur söker jag bygglov?",
    "När töms mina sopor?",
    "Hur ansöker jag om förskola?",
    "Var kan jag parkera?",
    "Vilka öppettider har biblioteket?",
    "Hur gör jag en felanmälan om gatubelysning?",
]


def _as_postgres(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class PostgresServer:
    pg_ctl: str
    initdb: str
    data: Path
    port: int

    def start(self) -> None:
        if not (self.data / "PG_VERSION").exists():
            self.data.mkdir(parents=True)
            if os.geteuid() == 0:
                shutil_chown(self.data.parent, self.data)
            subprocess.run(_as_postgres([self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres",
                                         "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
        self._ctl("start", "-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off "
                                 f"-c max_connections=200")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast", "-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 "
                                                 f"-c fsync=off -c max_connections=200")

    def stop(self) -> None:
        self._ctl("stop", "-m", "immediate", check=False)

    def _ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run(_as_postgres([self.pg_ctl, "-D", str(self.data), "-w", "-t", "60",
                                     "-l", str(self.data.parent / "postgres.log"), *args]),
                       check=check, capture_output=True)


def shutil_chown(*paths: Path) -> None:
    for path in paths:
        subprocess.run(["chown", "postgres:postgres", str(path)], check=True)


@dataclass
class RedisServer:
    binary: str
    port: int
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Cluster:
    env: dict[str, str]
    root: Path
    postgres: PostgresServer
    redis: RedisServer
    port_base: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port_base}"

    def api_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port_base + n}"

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.port_base + 5 + n}" for n in range(2)]

    def owner(self, conversation_id: str) -> int:
        """1 or 2: the Rasa replica that owns this conversation."""
        return self.rasa_urls.index(ReplicaRing(self.rasa_urls).preference(conversation_id)[0]) + 1

    # -- processes -----------------------------------------------------------
    def _run_dir(self) -> Path:
        return Path(self.env["CLUSTER_DIR"]) / "run"

    def pid(self, name: str) -> int:
        return int((self._run_dir() / f"{name}.pid").read_text())

    def kill(self, name: str, hold: bool = False) -> None:
        """kill -9; with hold, the watchdog leaves it down until release()."""
        if hold:
            (self._run_dir() / f"{name}.hold").touch()
        os.kill(self.pid(name), signal.SIGKILL)

    def release(self, name: str) -> None:
        (self._run_dir() / f"{name}.hold").unlink(missing_ok=True)

    def status(self) -> dict[str, str]:
        out = subprocess.run([str(REPO / "scripts/cluster.sh"), "status"], env=self.env, capture_output=True,
                             text=True, timeout=60).stdout
        return {line.split()[0]: line.split()[2] for line in out.splitlines() if len(line.split()) >= 3}

    def wait_ready(self, name: str, timeout: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.status().get(name) == "ready":
                return time.monotonic() - started
            time.sleep(1)
        raise AssertionError(f"{name} was not ready again within {timeout} s\n{self.logs_tail()}")

    def stop(self) -> None:
        subprocess.run([str(REPO / "scripts/cluster.sh"), "stop"], env=self.env, capture_output=True, timeout=120)
        self.redis.stop()
        self.postgres.stop()

    def logs_tail(self) -> str:
        logs = Path(self.env["CLUSTER_DIR"]) / "logs"
        parts = []
        for path in sorted(logs.glob("*")):
            lines = path.read_text(errors="replace").splitlines()[-8:]
            parts.append(f"--- {path.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    # -- databases -----------------------------------------------------------
    def query(self, database: str, sql: str, *params: Any) -> list[tuple]:
        with psycopg.connect(host="127.0.0.1", port=self.postgres.port, user="postgres", dbname=database,
                             connect_timeout=5) as conn:
            return conn.execute(sql, params).fetchall()

    def user_messages(self, conversation_ids: list[str]) -> list[tuple[str, str]]:
        return self.query("mjolby_cluster", "SELECT conversation_id, text FROM messages "
                          "WHERE sender = 'user' AND conversation_id = ANY(%s) ORDER BY id", conversation_ids)

    def tracker_user_texts(self, conversation_id: str) -> list[tuple[str, str | None]]:
        """(type_name, text or action) of the conversation's tracker events in the order Rasa wrote them."""
        rows = self.query("mjolby_cluster_tracker", "SELECT type_name, data FROM events "
                          "WHERE sender_id = %s ORDER BY id", conversation_id)
        out = []
        for type_name, data in rows:
            event = json.loads(data)
            out.append((type_name, event.get("text") if type_name == "user" else event.get("name")))
        return out


    # -- models --------------------------------------------------------------
    def publish_copy_of_current_model(self) -> str:
        """Publish the serving model again as a new version (same answers, new
        bytes, so a new fingerprint), as a publish from the console ends: a
        version row made current and its file beside the others. Returns its file name."""
        versions = Path(self.env["CLUSTER_DIR"]) / "models" / "versions"
        [(current_name,)] = self.query("mjolby_cluster", "SELECT file_name FROM model_versions WHERE current")
        repacked = subprocess.run(f"gzip -dc '{versions / current_name}' | gzip -1 -n", shell=True,
                                  capture_output=True, check=True).stdout
        fingerprint = hashlib.sha256(repacked).hexdigest()[:32]
        name = f"{fingerprint}.tar.gz"
        (versions / name).write_bytes(repacked)
        with psycopg.connect(host="127.0.0.1", port=self.postgres.port, user="postgres",
                             dbname="mjolby_cluster") as conn:
            conn.execute("UPDATE model_versions SET current = false WHERE current")
            conn.execute("INSERT INTO model_versions (fingerprint, file_name, size, kept, current, note, "
                         "created_by_email, created_at, activated_at) "
                         "VALUES (%s, %s, %s, true, true, 'switch-over test', 'system', now(), now())",
                         (fingerprint, name, len(repacked)))
        return name

    def models_loaded(self, replica: int) -> list[str]:
        """The model files a Rasa replica has loaded, in order (from its log)."""
        log = Path(self.env["CLUSTER_DIR"]) / "logs" / f"rasa-{replica}.log"
        return [line.rsplit("/", 1)[-1].rstrip(".").rstrip() for line in log.read_text(errors="replace").splitlines()
                if "Loading model" in line]


# -- load ----------------------------------------------------------------------
@dataclass
class Sent:
    conversation_id: str
    text: str
    sent_at: float
    answered_at: float
    status: int  # 0: no HTTP answer at all
    replies: list[str] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return self.status == 200

    @property
    def answered(self) -> bool:
        """A real answer from the bot (not "try again")."""
        return self.acknowledged and bool(self.replies) and BOT_UNREACHABLE not in self.replies

    @property
    def told_to_try_again(self) -> bool:
        return self.acknowledged and any(MEDBORGARSERVICE_PHONE in r and "Försök igen" in r for r in self.replies)


@dataclass
class Load:
    """Citizens in a closed loop through the proxy, each in its own conversation."""

    base_url: str
    conversations: list[str]
    pause: float = 0.3
    sent: list[Sent] = field(default_factory=list)
    started: float = 0.0

    async def run(self, seconds: float) -> None:
        self.started = time.monotonic()
        stop_at = self.started + seconds
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30, trust_env=False) as client:
            await asyncio.gather(*(self._citizen(client, c, n, stop_at) for n, c in enumerate(self.conversations)))

    async def _citizen(self, client: httpx.AsyncClient, conversation_id: str, n: int, stop_at: float) -> None:
        count = 0
        while time.monotonic() < stop_at:
            count += 1
            text = f"{QUESTIONS[(n + count) % len(QUESTIONS)]} ({n}-{count}-{uuid.uuid4().hex[:4]})"
            sent_at = time.monotonic()
            status, replies = 0, []
            try:
                response = await client.post(f"/api/v1/conversations/{conversation_id}/messages", json={"text": text})
                status = response.status_code
                if status == 200:
                    replies = [m["text"] for m in response.json()["messages"]]
            except httpx.HTTPError:
                pass
            self.sent.append(Sent(conversation_id, text, sent_at, time.monotonic(), status, replies))
            await asyncio.sleep(self.pause)

    def after(self, moment: float) -> list[Sent]:
        return [s for s in self.sent if s.sent_at >= moment]


def start_conversations(cluster: Cluster, count: int, owners: tuple[int, ...] = (1, 2)) -> list[str]:
    """`count` new conversations, shared evenly between the given Rasa owners."""
    wanted = {owner: count // len(owners) + (1 if i < count % len(owners) else 0) for i, owner in enumerate(owners)}
    found: list[str] = []
    with httpx.Client(base_url=cluster.url, timeout=30, trust_env=False) as client:
        for _ in range(count * 20):
            response = client.post("/api/v1/conversations", json={})
            assert response.status_code == 201, response.text
            conversation_id = response.json()["conversation_id"]
            owner = cluster.owner(conversation_id)
            if wanted.get(owner, 0) > 0:
                wanted[owner] -= 1
                found.append(conversation_id)
            if len(found) == count:
                return found
    raise AssertionError("could not start conversations on every replica")


def assert_no_acknowledged_message_lost(cluster: Cluster, load: Load) -> None:
    """Every message the API acknowledged (200) is in the database, once, in the
    order its citizen sent it; nothing is there that was never sent."""
    stored = cluster.user_messages(load.conversations)
    stored_texts = [text for _, text in stored]
    assert len(stored_texts) == len(set(stored_texts)), "a message was stored twice"
    acknowledged = [s for s in load.sent if s.acknowledged]
    missing = [s.text for s in acknowledged if s.text not in set(stored_texts)]
    assert not missing, f"{len(missing)} acknowledged messages are not in the database: {missing[:3]}"
    sent_texts = {s.text for s in load.sent}
    assert set(stored_texts) <= sent_texts
    for conversation_id in load.conversations:
        mine = [s.text for s in load.sent if s.conversation_id == conversation_id and s.text in set(stored_texts)]
        assert [t for c, t in stored if c == conversation_id] == mine


def assert_every_acknowledged_message_has_a_plain_reply(load: Load) -> None:
    for s in load.sent:
        if s.acknowledged:
            assert s.answered or s.told_to_try_again, (s.text, s.replies)


class EventFollower:
    """A citizen's live stream through the proxy that reconnects with
    Last-Event-ID whenever it is cut, as the widget does."""

    def __init__(self, base_url: str, conversation_id: str, after: int) -> None:
        self.url = f"{base_url}/api/v1/conversations/{conversation_id}/events"
        self.last_id = str(after)
        self.ids: list[int] = []
        # (arrival, message id or "ping"): a ping is the stream's periodic
        # re-read finding nothing, so a message with no ping since it was
        # written was pushed, not found by that re-read.
        self.arrivals: list[tuple[float, int | str]] = []
        self.reconnects = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(5.0, read=30.0), trust_env=False) as client:
            while not self._stop.is_set():
                try:
                    with client.stream("GET", self.url, headers={"Last-Event-ID": self.last_id}) as response:
                        if response.status_code != 200:
                            raise httpx.HTTPError(f"status {response.status_code}")
                        event_id = None
                        for line in response.iter_lines():
                            if self._stop.is_set():
                                return
                            if line.startswith("id:"):
                                event_id = line[3:].strip()
                            elif line.startswith(": ping"):
                                self.arrivals.append((time.monotonic(), "ping"))
                            elif line == "" and event_id is not None:
                                self.ids.append(int(event_id))
                                self.arrivals.append((time.monotonic(), int(event_id)))
                                self.last_id = event_id
                                event_id = None
                except httpx.HTTPError:
                    pass
                if not self._stop.is_set():
                    self.reconnects += 1
                    time.sleep(0.5)

    def pushed_since(self, moment: float, message_ids: list[int], timeout: float) -> bool:
        """Whether all these messages arrived, with no periodic re-read between
        `moment` and the last of them."""
        deadline = time.monotonic() + timeout
        while not set(message_ids) <= set(self.ids) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not set(message_ids) <= set(self.ids):
            return False
        last = max(at for at, what in self.arrivals if what in message_ids)
        return not any(what == "ping" and moment <= at <= last for at, what in self.arrivals)

    def stop(self) -> None:
        self._stop.set()
