"""The topic model behind the intent classifier: lexical first, meaning when unsure.

Two logistic regressions share one set of labels (knowledge topics as
`faq_<topic>` plus the behaviour intents):

* the lexical model reads TF-IDF weighted words and word pairs and character
  n-grams (2–5, within words) of the folded text, so "forskola", "förskolan"
  and "förskoleplats" share most of their features. It is a one-vs-rest
  logistic regression fitted by stochastic gradient descent: as accurate as
  a full multinomial fit on these examples, and several times faster to
  train. It costs well under a millisecond per message.
* the meaning model reads the multilingual-e5-small sentence embedding
  (bot/components/embeddings.py). It understands English, indirect
  descriptions of a situation and words the examples never used, but costs
  15–60 ms per message.

A message goes to the meaning model only when the lexical model is unsure
(its best probability is below `cascade_threshold`, or, if set, the message
has more than `long_message_words` words);
the two probability vectors are then blended (`blend` is the meaning model's
weight). Most messages are clear and never pay for an embedding.

The model is stored as plain arrays and JSON vocabularies, not pickles.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier

from . import embeddings
from .folding import fold
from .tfidf import tfidf_row

WORD_PATTERN = r"(?u)\b\w+\b"


@dataclass
class TopicModelConfig:
    lexical_alpha: float = 1e-5
    lexical_epochs: int = 30
    semantic_c: float = 30.0
    char_min_df: int = 2
    # Below this lexical confidence the meaning model is asked too.
    cascade_threshold: float = 0.5
    # Messages with more words than this always get the meaning model (0: never
    # for length alone; measured, long messages are rarely unsure lexically).
    long_message_words: int = 0
    # Weight of the meaning model in the blend (0 = lexical only).
    blend: float = 0.7
    use_embeddings: bool = True

    @classmethod
    def from_dict(cls, values: Dict) -> "TopicModelConfig":
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _word_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="word", preprocessor=fold, token_pattern=WORD_PATTERN,
                           ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)


def _char_vectorizer(min_df: int) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", preprocessor=fold, ngram_range=(2, 5),
                           sublinear_tf=True, min_df=min_df, dtype=np.float32)


def _one_vs_rest(scores: np.ndarray) -> np.ndarray:
    probabilities = 1.0 / (1.0 + np.exp(-scores))
    return probabilities / np.maximum(probabilities.sum(axis=1, keepdims=True), 1e-12)


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


class _FeaturePart:
    """One fitted TfidfVectorizer as plain lookups: its analyzer, vocabulary and idf."""

    def __init__(self, analyzer: Callable[[str], List[str]], vocabulary: Dict[str, int],
                 idf: np.ndarray, offset: int) -> None:
        self.analyzer, self.vocabulary, self.offset = analyzer, vocabulary, offset
        self.idf = np.asarray(idf, dtype=np.float32)

    @classmethod
    def of(cls, vectorizer: TfidfVectorizer, offset: int) -> "_FeaturePart":
        return cls(vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, offset)

    def row(self, text: str) -> Tuple[np.ndarray, np.ndarray]:
        """Column indices (offset into the whole row) and TF-IDF values of the text."""
        index, values = tfidf_row(self.analyzer(text), self.vocabulary, self.idf)
        return index + self.offset, values


@dataclass
class Prediction:
    probabilities: np.ndarray
    used_embedding: bool
    embedding: Optional[np.ndarray] = None


@dataclass
class TopicModel:
    config: TopicModelConfig = field(default_factory=TopicModelConfig)
    labels: List[str] = field(default_factory=list)
    word: Optional[TfidfVectorizer] = None
    char: Optional[TfidfVectorizer] = None
    lexical_coef: Optional[np.ndarray] = None
    lexical_intercept: Optional[np.ndarray] = None
    semantic_coef: Optional[np.ndarray] = None
    semantic_intercept: Optional[np.ndarray] = None

    # ---- training -------------------------------------------------------
    def fit(self, texts: Sequence[str], labels: Sequence[str],
            example_embeddings: Optional[np.ndarray] = None) -> "TopicModel":
        self.labels = sorted(set(labels))
        index = {label: i for i, label in enumerate(self.labels)}
        y = np.array([index[label] for label in labels])
        self.word = _word_vectorizer()
        self.char = _char_vectorizer(self.config.char_min_df)
        x = sp.hstack([self.word.fit_transform(texts), self.char.fit_transform(texts)]).tocsr()
        lexical = SGDClassifier(loss="log_loss", alpha=self.config.lexical_alpha,
                                max_iter=self.config.lexical_epochs, tol=None,
                                class_weight="balanced", random_state=20261202)
        lexical.fit(x, y)
        self.lexical_coef = lexical.coef_.astype(np.float32)
        self._weights = None
        self._parts = None
        self.lexical_intercept = lexical.intercept_.astype(np.float32)
        if self.config.use_embeddings:
            if example_embeddings is None:
                example_embeddings = embeddings.embed_many(texts)
            semantic = LogisticRegression(C=self.config.semantic_c, max_iter=3000,
                                          class_weight="balanced")
            semantic.fit(example_embeddings, y)
            self.semantic_coef = semantic.coef_.astype(np.float32)
            self.semantic_intercept = semantic.intercept_.astype(np.float32)
        return self

    # ---- prediction -----------------------------------------------------
    def _lexical_weights(self) -> np.ndarray:
        """The coefficients as (features, labels), C-ordered. A sparse row times
        a transposed view would copy the whole matrix (~20 MB) per message."""
        if getattr(self, "_weights", None) is None or self._weights.shape[0] != self.lexical_coef.shape[1]:
            self._weights = np.ascontiguousarray(self.lexical_coef.T)
        return self._weights

    def _feature_parts(self) -> List[_FeaturePart]:
        parts = getattr(self, "_parts", None)
        if parts is None:
            parts, offset = [], 0
            for vectorizer in (self.word, self.char):
                parts.append(_FeaturePart.of(vectorizer, offset))
                offset += len(vectorizer.vocabulary_)
            self._parts = parts
        return parts

    def lexical_features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The TF-IDF rows of the texts, word part then character part, as float32.

        The same values as the two fitted TfidfVectorizers' transform (sublinear
        tf, idf, each part L2-normalised), computed without it: sklearn's
        transform checks the whole fitted state and returns float64 on every
        call, and a float64 row times the float32 weights copies all of them.
        That was most of a message's NLU time.
        """
        parts = self._feature_parts()
        rows = [[part.row(text) for part in parts] for text in texts]
        pieces = [piece for row in rows for piece in row]
        indptr = np.cumsum([0] + [sum(len(index) for index, _ in row) for row in rows])
        width = sum(len(part.vocabulary) for part in parts)
        return sp.csr_matrix(
            (np.concatenate([values for _, values in pieces] or [np.zeros(0, np.float32)]),
             np.concatenate([index for index, _ in pieces] or [np.zeros(0, np.int64)]), indptr),
            shape=(len(texts), width), dtype=np.float32)

    def lexical_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        x = self.lexical_features(texts)
        return _one_vs_rest(np.asarray(x @ self._lexical_weights()) + self.lexical_intercept)

    def semantic_probabilities(self, vectors: np.ndarray) -> np.ndarray:
        return _softmax(vectors @ self.semantic_coef.T + self.semantic_intercept)

    def needs_embedding(self, text: str, lexical: np.ndarray) -> bool:
        if self.semantic_coef is None:
            return False
        long = 0 < self.config.long_message_words < len(text.split())
        return float(lexical.max()) < self.config.cascade_threshold or long

    def blend(self, lexical: np.ndarray, semantic: np.ndarray) -> np.ndarray:
        weight = self.config.blend
        return (1.0 - weight) * lexical + weight * semantic

    def predict(self, text: str) -> Prediction:
        lexical = self.lexical_probabilities([text])[0]
        if not self.needs_embedding(text, lexical):
            return Prediction(lexical, used_embedding=False)
        vector = embeddings.embed(text)
        semantic = self.semantic_probabilities(vector[None, :])[0]
        return Prediction(self.blend(lexical, semantic), used_embedding=True, embedding=vector)

    def predict_many(self, texts: Sequence[str],
                     text_embeddings: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Probabilities for many texts (for evaluation), and which used embeddings."""
        lexical = self.lexical_probabilities(texts)
        used = np.array([self.needs_embedding(t, p) for t, p in zip(texts, lexical)], dtype=bool)
        out = lexical.copy()
        if used.any():
            if text_embeddings is None:
                vectors = embeddings.embed_many([t for t, u in zip(texts, used) if u])
            else:
                vectors = text_embeddings[used]
            out[used] = self.blend(lexical[used], self.semantic_probabilities(vectors))
        return out, used

    # ---- persistence ----------------------------------------------------
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "config": self.config.__dict__,
            "labels": self.labels,
            "word_vocabulary": {k: int(v) for k, v in self.word.vocabulary_.items()},
            "char_vocabulary": {k: int(v) for k, v in self.char.vocabulary_.items()},
        }
        (directory / "topic_model.json").write_text(json.dumps(meta, ensure_ascii=False),
                                                    encoding="utf-8")
        arrays = {
            "word_idf": self.word.idf_.astype(np.float32),
            "char_idf": self.char.idf_.astype(np.float32),
            "lexical_coef": self.lexical_coef,
            "lexical_intercept": self.lexical_intercept,
        }
        if self.semantic_coef is not None:
            arrays["semantic_coef"] = self.semantic_coef
            arrays["semantic_intercept"] = self.semantic_intercept
        np.savez_compressed(directory / "topic_model.npz", **arrays)

    @classmethod
    def load(cls, directory: Path) -> "TopicModel":
        meta = json.loads((directory / "topic_model.json").read_text(encoding="utf-8"))
        arrays = np.load(directory / "topic_model.npz", allow_pickle=False)
        model = cls(config=TopicModelConfig.from_dict(meta["config"]), labels=meta["labels"])
        model.word = _word_vectorizer()
        model.word.vocabulary_ = meta["word_vocabulary"]
        model.word.idf_ = arrays["word_idf"]
        model.char = _char_vectorizer(model.config.char_min_df)
        model.char.vocabulary_ = meta["char_vocabulary"]
        model.char.idf_ = arrays["char_idf"]
        model.lexical_coef = arrays["lexical_coef"]
        model.lexical_intercept = arrays["lexical_intercept"]
        if "semantic_coef" in arrays:
            model.semantic_coef = arrays["semantic_coef"]
            model.semantic_intercept = arrays["semantic_intercept"]
        return model
