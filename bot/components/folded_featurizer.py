"""Count-vector features on text folded to plain ASCII letters.

Citizens often type without å, ä and ö ("forskola", "atervinning") or with
typos. Folding both the training examples and the incoming text to the same
spelling lets "forskola" share its word and character n-grams with
"förskola". It is used next to the normal featurizers, so the exact spelling
still counts where it is available.
"""
from __future__ import annotations

import unicodedata
from typing import List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.shared.nlu.constants import TEXT

_TABLE = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u", "æ": "a", "ø": "o"})


def fold(text: str) -> str:
    """Lowercase, map Swedish letters to ASCII and squeeze letter runs of 3+."""
    text = text.lower().translate(_TABLE)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    out: List[str] = []
    for ch in text:
        if len(out) >= 2 and ch.isalpha() and out[-1] == ch and out[-2] == ch:
            continue
        out.append(ch)
    return "".join(out)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True
)
class FoldedCountVectorsFeaturizer(CountVectorsFeaturizer):
    """CountVectorsFeaturizer that folds message text before counting."""

    def _process_tokens(self, tokens: List[Text], attribute: Text = TEXT) -> List[Text]:
        tokens = super()._process_tokens(tokens, attribute)
        if attribute != TEXT:
            return tokens
        return [fold(t) for t in tokens]
