"""The safety net's detector: does a message signal suicide or self-harm,
violence in a close relationship, a child at risk or acute danger?

Three layers, cheapest first, tuned for recall:

1. Phrases (safety_lexicon.py) over folded text, in Swedish and English, with
   harmless uses of the same words blanked out first.
2. A logistic regression over words, word pairs and character n-grams of the
   folded text, trained on the signals and hard negatives in
   knowledge/safety/signals.yml, the examples of the three sensitive topics
   and, as negatives, every other topic's examples. Scoring is a few dozen
   dictionary look-ups and one small matrix product.
3. When the learned score is in a grey zone, or the message already carries
   its sentence embedding, a logistic regression over the multilingual-e5
   embedding (embeddings.py) reads its meaning: indirect, English or
   misspelt descriptions that share no words with the examples.

The message is a signal when any layer says so. This module has no Rasa
imports; safety_detector.py wraps it as a pipeline component, and
tools/safety_eval.py and the tests use it directly.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from . import safety_lexicon as lexicon
from .safety_lexicon import ACUTE, CATEGORIES, CHILD, SUICIDE, VIOLENCE
from .tfidf import tfidf_row

logger = logging.getLogger(__name__)

NONE = "none"
LABELS: Tuple[str, ...] = (NONE,) + CATEGORIES
REPO = Path(__file__).resolve().parents[2]
SIGNALS_FILE = REPO / "knowledge" / "safety" / "signals.yml"

# Knowledge topics whose examples are signals, and the category they teach.
SENSITIVE_TOPICS: Dict[str, str] = {
    "kris_akut_hjalp": SUICIDE,  # or acute_danger, decided per example below
    "vald_nara_relation": VIOLENCE,
    "orosanmalan_barn": CHILD,
}
# The knowledge topic that answers each category.
CATEGORY_TOPICS: Dict[str, str] = {
    SUICIDE: "kris_akut_hjalp",
    ACUTE: "kris_akut_hjalp",
    VIOLENCE: "vald_nara_relation",
    CHILD: "orosanmalan_barn",
}

_WORD = re.compile(r"[a-z0-9']+")
MODEL_FILE = "safety_model.json"
WEIGHTS_FILE = "safety_weights.npz"


@dataclass
class SafetyConfig:
    # Inverse regularisation strength of both logistic regressions.
    lexical_c: float = 10.0
    embedding_c: float = 4.0
    # How much more a signal example weighs than a negative one in training.
    signal_weight: float = 3.0
    # The learned lexical model fires at or above this P(signal).
    fire_threshold: float = 0.5
    # Between grey_threshold and fire_threshold the embedding is consulted.
    grey_threshold: float = 0.08
    # With an embedding: fire at or above this blended P(signal).
    embedding_threshold: float = 0.5
    # Weight of the embedding model in the blend.
    blend: float = 0.6
    use_embeddings: bool = True

    @classmethod
    def from_dict(cls, values: Dict) -> "SafetyConfig":
        known = {k: v for k, v in (values or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Detection:
    """A message that signals a crisis: the category and why."""

    category: str
    score: float
    layer: str  # "phrase", "lexical" or "embedding"
    matched: List[str] = field(default_factory=list)
    used_embedding: bool = False


def features(prepared: str) -> List[str]:
    """Words, word pairs and 3-5 character n-grams within words of prepared text."""
    words = _WORD.findall(prepared)
    out = ["w " + w for w in words]
    out += ["b " + a + " " + b for a, b in zip(words, words[1:])]
    for w in words:
        padded = " " + w + " "
        size = len(padded)
        for n in (3, 4, 5):
            if size < n:
                break
            out += [padded[i:i + n] for i in range(size - n + 1)]
    return out


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=-1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=-1, keepdims=True)


def load_signals(path: Path = SIGNALS_FILE) -> List[Tuple[str, str]]:
    """(text, label) pairs from knowledge/safety/signals.yml."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs: List[Tuple[str, str]] = []
    for label, texts in data.items():
        if label not in LABELS:
            raise ValueError(f"{path}: unknown category {label!r} (use one of {', '.join(LABELS)})")
        pairs += [(str(t), label) for t in texts or []]
    return pairs


def signals_fingerprint(path: Path = SIGNALS_FILE) -> str:
    """Changes when the signals file or the detector's code changes."""
    digest = hashlib.sha256()
    for part in (path, Path(__file__), Path(lexicon.__file__)):
        try:
            digest.update(part.read_bytes())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()[:16]


def label_topic_example(topic: Optional[str], text: str) -> str:
    """The training label of a knowledge example of a topic."""
    category = SENSITIVE_TOPICS.get(topic or "")
    if category is None:
        return NONE
    if category == SUICIDE:
        found = lexicon.categories(text)
        if ACUTE in found and SUICIDE not in found:
            return ACUTE
    return category


def training_pairs(
    topic_examples: Iterable[Tuple[str, Optional[str]]], signals: Sequence[Tuple[str, str]]
) -> Tuple[List[str], List[str]]:
    """Texts and labels: the signals file first, then every knowledge example once."""
    texts: List[str] = []
    labels: List[str] = []
    seen = set()
    for text, label in signals:
        key = " ".join(text.split()).lower()
        if key not in seen:
            seen.add(key)
            texts.append(text)
            labels.append(label)
    for text, topic in topic_examples:
        key = " ".join(text.split()).lower()
        if key not in seen:
            seen.add(key)
            texts.append(text)
            labels.append(label_topic_example(topic, text))
    return texts, labels


class SafetyModel:
    """The trained detector (see the module docstring)."""

    def __init__(
        self,
        config: SafetyConfig,
        vocabulary: Dict[str, int],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        embedding_coef: Optional[np.ndarray] = None,
        embedding_intercept: Optional[np.ndarray] = None,
    ) -> None:
        self.config = config
        self.vocabulary = vocabulary
        self.idf = idf.astype(np.float64)
        self.coef = coef.astype(np.float64)
        self.intercept = intercept.astype(np.float64)
        self.embedding_coef = None if embedding_coef is None else embedding_coef.astype(np.float32)
        self.embedding_intercept = None if embedding_intercept is None else embedding_intercept.astype(np.float32)

    # --- training --------------------------------------------------------
    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        config: Optional[SafetyConfig] = None,
        embed_many: Optional[Callable[[Sequence[str]], np.ndarray]] = None,
    ) -> "SafetyModel":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        config = config or SafetyConfig()
        y = np.array([LABELS.index(label) for label in labels])
        weights = np.where(y == 0, 1.0, config.signal_weight)
        vectorizer = TfidfVectorizer(analyzer=lambda t: features(lexicon.prepare(t)), sublinear_tf=True,
                                     min_df=1, dtype=np.float64)
        x = vectorizer.fit_transform(texts)
        lexical = LogisticRegression(C=config.lexical_c, max_iter=2000)
        lexical.fit(x, y, sample_weight=weights)
        coef, intercept = _full_rows(lexical, len(LABELS), x.shape[1])
        vocabulary = {f: int(i) for f, i in vectorizer.vocabulary_.items()}
        embedding_coef = embedding_intercept = None
        if config.use_embeddings and embed_many is not None:
            try:
                vectors = embed_many(list(texts))
            except Exception:  # the embedding model is optional for training
                logger.warning("Safety detector: no sentence embeddings, training without them", exc_info=True)
                vectors = None
            if vectors is not None:
                semantic = LogisticRegression(C=config.embedding_c, max_iter=3000)
                semantic.fit(vectors, y, sample_weight=weights)
                embedding_coef, embedding_intercept = _full_rows(semantic, len(LABELS), vectors.shape[1])
        return cls(config, vocabulary, vectorizer.idf_, coef, intercept, embedding_coef, embedding_intercept)

    # --- scoring ---------------------------------------------------------
    def lexical_probabilities(self, prepared: str) -> np.ndarray:
        index, values = tfidf_row(features(prepared), self.vocabulary, self.idf)
        if not len(index):
            return _softmax(self.intercept)
        return _softmax(self.coef[:, index] @ values + self.intercept)

    def embedding_probabilities(self, embedding: np.ndarray) -> Optional[np.ndarray]:
        if self.embedding_coef is None or embedding is None:
            return None
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if vector.shape[0] != self.embedding_coef.shape[1]:
            return None
        return _softmax((self.embedding_coef @ vector + self.embedding_intercept).astype(np.float64))

    @property
    def has_embeddings(self) -> bool:
        return self.embedding_coef is not None

    def detect(
        self,
        text: str,
        embedding: Optional[np.ndarray] = None,
        embed: Optional[Callable[[str], np.ndarray]] = None,
    ) -> Optional[Detection]:
        """The detection for a message, or None when it shows no sign of crisis.

        `embedding` is the message's sentence embedding when another component
        already computed it; `embed` computes one, and is called only when the
        learned score is in the grey zone.
        """
        if not text or not text.strip():
            return None
        config = self.config
        prepared = lexicon.prepare(text)
        phrases = lexicon.matches_prepared(prepared)
        probabilities = self.lexical_probabilities(prepared)
        score = 1.0 - float(probabilities[0])
        used_embedding = False
        grey = not phrases and config.grey_threshold <= score < config.fire_threshold
        if embedding is None and grey and embed is not None and self.has_embeddings:
            try:
                embedding = embed(text)
            except Exception:  # never let the safety net break a reply
                logger.warning("Safety detector: embedding failed", exc_info=True)
                embedding = None
        blended_score = None
        semantic = self.embedding_probabilities(embedding) if embedding is not None else None
        if semantic is not None:
            used_embedding = True
            probabilities = (1.0 - config.blend) * probabilities + config.blend * semantic
            blended_score = 1.0 - float(probabilities[0])
        if phrases:
            layer, final = "phrase", max(score, blended_score or 0.0)
        elif score >= config.fire_threshold:
            layer, final = "lexical", score
        elif blended_score is not None and blended_score >= config.embedding_threshold:
            layer, final = "embedding", blended_score
        elif grey and blended_score is None and score >= (config.grey_threshold + config.fire_threshold) / 2:
            # No embedding available: lean towards the caring answer.
            layer, final = "lexical", score
        else:
            return None
        candidates = [c for c in CATEGORIES if c in phrases] or list(CATEGORIES)
        category = max(candidates, key=lambda c: probabilities[LABELS.index(c)])
        matched = [m for c in CATEGORIES for m in phrases.get(c, [])]
        return Detection(category, round(final, 4), layer, matched, used_embedding)

    # --- persistence -----------------------------------------------------
    def persist(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / MODEL_FILE).write_text(
            json.dumps({"config": asdict(self.config), "labels": list(LABELS), "vocabulary": self.vocabulary},
                       ensure_ascii=False),
            encoding="utf-8",
        )
        arrays = {"idf": self.idf, "coef": self.coef, "intercept": self.intercept}
        if self.embedding_coef is not None:
            arrays.update(embedding_coef=self.embedding_coef, embedding_intercept=self.embedding_intercept)
        np.savez(directory / WEIGHTS_FILE, **arrays)

    @classmethod
    def load(cls, directory: Path) -> "SafetyModel":
        directory = Path(directory)
        meta = json.loads((directory / MODEL_FILE).read_text(encoding="utf-8"))
        if tuple(meta["labels"]) != LABELS:
            raise ValueError("the stored safety model has other categories; retrain it")
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as arrays:
            return cls(
                SafetyConfig.from_dict(meta["config"]),
                meta["vocabulary"],
                arrays["idf"],
                arrays["coef"],
                arrays["intercept"],
                arrays["embedding_coef"] if "embedding_coef" in arrays else None,
                arrays["embedding_intercept"] if "embedding_intercept" in arrays else None,
            )


def _full_rows(model, n_labels: int, n_features: int) -> Tuple[np.ndarray, np.ndarray]:
    """Coefficients with one row per label, also for labels absent in training."""
    coef = np.full((n_labels, n_features), 0.0)
    intercept = np.full(n_labels, -30.0)
    classes = list(model.classes_)
    if len(classes) == 2:  # sklearn stores one row for a binary problem
        coef[classes[1]] = model.coef_[0]
        intercept[classes[1]] = model.intercept_[0]
        intercept[classes[0]] = 0.0
    else:
        for row, label in enumerate(classes):
            coef[label] = model.coef_[row]
            intercept[label] = model.intercept_[row]
    return coef, intercept
