"""Where model files live under DATA_DIR/models, and their fingerprints."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

# What scripts/setup.sh trains and copies here: registered as the first version.
SETUP_MODEL = "current.tar.gz"


def models_dir(data_dir: Path) -> Path:
    return data_dir / "models"


def versions_dir(data_dir: Path) -> Path:
    return models_dir(data_dir) / "versions"


def build_dir(data_dir: Path, job_id: int) -> Path:
    return models_dir(data_dir) / "build" / f"job-{job_id}"


def candidate_file(data_dir: Path, job_id: int) -> Path:
    return build_dir(data_dir, job_id) / "candidate.tar.gz"


def fingerprint(path: Path) -> str:
    """The model's ETag: a hash of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]


_known: dict[tuple[str, int, int, int], str] = {}


def setup_model_fingerprint(data_dir: Path) -> str | None:
    """The fingerprint of the model scripts/setup.sh left in DATA_DIR/models (None when
    there is none). Hashed again only when the file changed (setup replaces it whole)."""
    path = models_dir(data_dir) / SETUP_MODEL
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key not in _known:
        _known.clear()
        _known[key] = fingerprint(path)
    return _known[key]


def keep(source: Path, target: Path) -> None:
    """Copy `source` to `target` so that a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + f".part-{os.getpid()}")
    shutil.copyfile(source, partial)
    os.replace(partial, target)
