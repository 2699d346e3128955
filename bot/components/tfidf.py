"""One text's TF-IDF row without sklearn's transform, for the models that score
a message at a time (the topic model and the safety detector).

The values are those of a fitted TfidfVectorizer(sublinear_tf=True, norm="l2"):
(1 + log tf) × idf, L2-normalised. sklearn's transform re-checks the whole
fitted state on every call and returns float64; here the values take the
dtype of `idf`, so a float32 model multiplies float32 rows.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Mapping, Tuple

import numpy as np


def tfidf_row(terms: Iterable[str], vocabulary: Mapping[str, int],
              idf: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Column indices of the known terms and their weights (both empty if none is known)."""
    counts = Counter(vocabulary[term] for term in terms if term in vocabulary)
    if not counts:
        return np.zeros(0, np.int64), np.zeros(0, idf.dtype)
    index = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    tf = np.fromiter(counts.values(), dtype=idf.dtype, count=len(counts))
    values = (1.0 + np.log(tf)) * idf[index]
    values /= np.sqrt(values @ values) or 1.0
    return index, values
