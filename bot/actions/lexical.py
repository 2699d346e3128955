"""Which topic's example questions a message shares the most letters with.

The ResponseSelector ranks topics by what it learned; for a word it has seen
only once or twice ("radon") its ranking can be far off. When the bot has to
ask the citizen to rephrase, this plain character n-gram match over the
knowledge examples adds the topic whose wording is closest, so the right
topic is more often among the "Menade du …?" buttons.
"""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import List, Optional, Tuple

from components.folding import fold

from . import catalogue

# Each topic is one document of all its examples, so words many topics share
# ("hur", "kommunen", "grejen") weigh little and rare ones ("radon") much.
# Below this cosine similarity the message shares too little with any topic.
MIN_SIMILARITY = 0.07


@lru_cache(maxsize=1)
def _index() -> Tuple[object, object, List[str]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    topics, documents = [], []
    for topic_id, entry in catalogue.load()["topics"].items():
        if entry.get("examples"):
            topics.append(topic_id)
            documents.append("\n".join(entry["examples"]))
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), preprocessor=fold,
                                 sublinear_tf=True)
    matrix = vectorizer.fit_transform(documents) if documents else None
    return vectorizer, matrix, topics


def closest_topic(text: str) -> Optional[str]:
    """The knowledge topic whose examples the message resembles most, if enough."""
    vectorizer, matrix, topics = _index()
    if matrix is None or not text.strip():
        return None
    scores = (matrix @ vectorizer.transform([text]).T).toarray().ravel()
    best = int(scores.argmax())
    return topics[best] if scores[best] >= MIN_SIMILARITY else None


# Building the index takes a few seconds: do it when the action server starts,
# beside it, not when the first citizen's message falls back.
threading.Thread(target=_index, name="lexical-index", daemon=True).start()
