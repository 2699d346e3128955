"""Rasa intent classifier around the topic model (bot/components/topic_model.py).

Knowledge topics are plain intents `faq_<topic>` next to the behaviour
intents; the answer text comes from the knowledge catalogue at run time, so an
edited answer needs no retraining. The component reads the raw message text
(it folds spelling itself; a removed identity number's placeholder is left
out) and needs no featurizer before it.

When the lexical model was unsure and the message was embedded, the embedding
is left on the message as `e5_embedding` (not part of the parse output), so
that a later component, the safety detector, can reuse it for free.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from . import embeddings
from .topic_model import TopicModel, TopicModelConfig

logger = logging.getLogger(__name__)

EMBEDDING_KEY = "e5_embedding"
# What the gateway writes where it removed an identity number (MASK in
# api/mjolby_pii.py). Those are not the citizen's words: their "personnummer"
# pulled "[personnummer borttaget] hur mycket kostar fritids" towards
# Skatteverket's topic. The classifier reads the message without them.
IDENTITY_NUMBER_MASK = "[personnummer borttaget]"


def citizens_words(text: str) -> str:
    """The message without the gateway's placeholders (unchanged if nothing else is left)."""
    if IDENTITY_NUMBER_MASK not in text:
        return text
    rest = " ".join(text.replace(IDENTITY_NUMBER_MASK, " ").split())
    return rest or text


def progress(text: str) -> None:
    """A progress line for the terminal during `rasa train` (Rasa's logger is quiet at INFO)."""
    print(f"    topic classifier: {text}", flush=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TopicClassifier(IntentClassifier, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**TopicModelConfig().__dict__, "ranking_length": 10}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[TopicModel] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "TopicClassifier":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT)]
        texts = [m.get(TEXT) for m in examples]
        labels = [m.get(INTENT) for m in examples]
        config = TopicModelConfig.from_dict(self.config)
        started = time.perf_counter()
        vectors = None
        if config.use_embeddings:
            progress(f"sentence embeddings of {len(texts)} examples (cached per text; "
                     "a new text takes about 20 ms)")
            vectors = embeddings.embed_many(texts, progress=progress)
            progress(f"embeddings ready after {time.perf_counter() - started:.0f} s")
        progress(f"fitting {len(set(labels))} intents on {len(texts)} examples")
        self.model = TopicModel(config=config).fit(texts, labels, vectors)
        progress(f"trained in {time.perf_counter() - started:.0f} s")
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory)
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "TopicClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                model = TopicModel.load(directory)
        except (ValueError, FileNotFoundError):
            logger.warning("No trained topic classifier in the model; every message will fall back.")
            model = None
        if model is not None and model.semantic_coef is not None:
            # Load the embedding model now, while Rasa starts, not on the first
            # unsure message of a citizen (which would wait for it).
            embeddings.embed("hej")
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if self.model is None or not text.strip():
                continue
            prediction = self.model.predict(citizens_words(text))
            order = prediction.probabilities.argsort()[::-1]
            ranking = [
                {"name": self.model.labels[i], "confidence": float(prediction.probabilities[i])}
                for i in order[: self.config["ranking_length"]]
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            if prediction.embedding is not None:
                message.set(EMBEDDING_KEY, prediction.embedding)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
