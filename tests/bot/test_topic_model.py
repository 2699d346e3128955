"""The topic model: folded spelling, the cascade to meaning, and storage as arrays."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from components import embeddings
from components.topic_classifier import IDENTITY_NUMBER_MASK, TopicClassifier
from components.topic_model import TopicModel, TopicModelConfig

EXAMPLES = {
    "faq_forskola_ansokan": [
        "hur ansöker jag om förskoleplats", "ställa mitt barn i kö till förskolan",
        "när kan min dotter börja på förskola", "ansökan om plats i förskola",
        "vi behöver förskola till vår son i höst", "kö till förskolan",
    ],
    "faq_avfall_hamtning": [
        "när töms soptunnan", "sophämtningen har inte kommit", "byta storlek på soptunnan",
        "hämtar ni sopor på helgdagar", "soporna står kvar", "abonnemang för sophämtning",
    ],
    "faq_bibliotek": [
        "när har biblioteket öppet", "låna om en bok", "jag har tappat mitt lånekort",
        "kan man låna e-böcker", "biblioteket öppettider lördag", "reservera en bok på biblioteket",
    ],
}


def dataset():
    texts, labels = [], []
    for label, examples in EXAMPLES.items():
        texts += examples
        labels += [label] * len(examples)
    return texts, labels


@pytest.fixture(scope="module")
def model() -> TopicModel:
    texts, labels = dataset()
    return TopicModel(TopicModelConfig(lexical_epochs=50)).fit(texts, labels)


def best(model: TopicModel, text: str) -> str:
    return model.labels[int(model.predict(text).probabilities.argmax())]


def test_spelling_without_swedish_letters_finds_the_topic(model):
    assert best(model, "ansoka forskoleplats") == "faq_forskola_ansokan"
    assert best(model, "nar tomms sopptunnan") == "faq_avfall_hamtning"


def test_english_is_understood_through_meaning(model):
    prediction = model.predict("the garbage was not collected this week")
    assert prediction.used_embedding
    assert model.labels[int(prediction.probabilities.argmax())] == "faq_avfall_hamtning"


def test_clear_short_messages_need_no_embedding(model, monkeypatch):
    def fail(text):
        raise AssertionError("a clear message was embedded")

    monkeypatch.setattr(embeddings, "embed", fail)
    model.config.cascade_threshold = 0.0
    try:
        assert best(model, "när töms soptunnan") == "faq_avfall_hamtning"
    finally:
        model.config.cascade_threshold = TopicModelConfig().cascade_threshold


def test_long_messages_get_meaning_when_configured(model):
    text = " ".join(["jag undrar lite över hur det fungerar med soptunnan och hämtningen"] * 3)
    model.config.long_message_words, model.config.cascade_threshold = 25, 0.0
    try:
        assert model.predict(text).used_embedding
    finally:
        model.config.long_message_words = TopicModelConfig().long_message_words
        model.config.cascade_threshold = TopicModelConfig().cascade_threshold


def test_only_the_first_words_of_a_long_message_are_embedded():
    words = [f"ord{i}" for i in range(200)]
    assert embeddings.normalise(" ".join(words)).split() == words[:embeddings.MAX_WORDS]


def test_saved_model_predicts_the_same(model, tmp_path):
    model.save(tmp_path)
    loaded = TopicModel.load(tmp_path)
    for text in ["låna om boken", "the library opening hours", "förskola kö"]:
        np.testing.assert_allclose(loaded.predict(text).probabilities, model.predict(text).probabilities,
                                   rtol=1e-5, atol=1e-6)
    assert not list(tmp_path.glob("*.pkl"))  # arrays and JSON, nothing executable


@pytest.mark.parametrize("reload", [False, True], ids=["fitted", "loaded"])
def test_lexical_features_equal_the_fitted_vectorizers(model, tmp_path, reload):
    """Prediction builds the TF-IDF rows itself; they must be what training saw."""
    if reload:
        model.save(tmp_path / "topic")
        model = TopicModel.load(tmp_path / "topic")
    texts = ["Hur ansöker jag om förskoleplats?", "nar tomms sopptunnan", "", "!!!",
             "the library is closed", "låna om en bok på biblioteket biblioteket"]
    expected = sp.hstack([model.word.transform(texts), model.char.transform(texts)]).toarray()
    got = model.lexical_features(texts)
    assert got.dtype == np.float32
    assert np.allclose(got.toarray(), expected, atol=1e-6)


def test_embeddings_are_cached_per_text(tmp_path):
    texts = ["sophämtning", "biblioteket"]
    first = embeddings.embed_many(texts, cache_dir=tmp_path)
    assert len(list(tmp_path.rglob("*.npy"))) == 2
    again = embeddings.embed_many(texts, cache_dir=tmp_path)
    np.testing.assert_array_equal(first, again)
    assert first.shape == (2, embeddings.DIM)


def test_a_removed_identity_number_does_not_decide_the_topic(model):
    """The gateway's placeholder says "personnummer"; the citizen asked about something else."""
    gateway = (Path(__file__).resolve().parents[2] / "api" / "mjolby_pii.py").read_text(encoding="utf-8")
    assert re.search(r'^MASK = "(.*)"$', gateway, re.M).group(1) == IDENTITY_NUMBER_MASK

    # A model that learnt "personnummer" as a topic of its own, as Skatteverket's is.
    texts, labels = dataset()
    texts += ["personnummer", "nytt personnummer", "ändra mitt personnummer", "personnummer för barn",
              "hur får jag personnummer", "personnummer skatteverket"]
    labels += ["faq_hanvisning_skatteverket"] * 6
    classifier = TopicClassifier({}, None, None, TopicModel(TopicModelConfig(lexical_epochs=50)).fit(texts, labels))
    message = Message(data={TEXT: f"personnummer {IDENTITY_NUMBER_MASK} när töms soptunnan"})
    classifier.process([message])
    assert message.get(INTENT)["name"] == "faq_avfall_hamtning"
    assert message.get(TEXT).count(IDENTITY_NUMBER_MASK) == 1, "the stored text keeps the placeholder"
