"""The safety net in the NLU pipeline: crisis, violence and children at risk.

Runs after the topic classifier and before FallbackClassifier. When a message
shows signs of suicide or self-harm, violence in a close relationship, a
child at risk or acute danger (safety_model.py), the message's intent becomes
the sensitive topic that answers it, with confidence 1.0, whatever the topic
classifier thought, so it is never met with "Menade du ...?" or an unrelated
answer. An entity `safety_signal` carries the category; the answer action
puts the emergency and support numbers first and offers a person.

If the classifier already chose one of the three sensitive topics, that topic
is kept: it is the more specific reading (a child describing violence between
the adults at home may be answered by vald_nara_relation, whose child answer
puts BRIS first, just as orosanmalan_barn's does).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Text, Tuple, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from . import embeddings
from .safety_model import CATEGORY_TOPICS, SIGNALS_FILE, Detection, SafetyConfig, SafetyModel, load_signals, \
    signals_fingerprint, training_pairs

logger = logging.getLogger(__name__)

ENTITY = "safety_signal"
EMBEDDING_KEY = "e5_embedding"


def topic_of_intent(name: Optional[str], response_key: Optional[str] = None) -> Optional[str]:
    """The knowledge topic of an intent: faq_<topic>, or faq/<topic> as a retrieval intent."""
    for candidate in (response_key, name):
        if candidate and candidate.startswith("faq/"):
            return candidate[4:]
        if candidate and candidate.startswith("faq_"):
            return candidate[4:]
    return None


def topic_examples(training_data: TrainingData) -> List[Tuple[str, Optional[str]]]:
    """(text, knowledge topic or None) for every intent example."""
    pairs: List[Tuple[str, Optional[str]]] = []
    for message in training_data.intent_examples:
        text = message.get(TEXT)
        if text:
            pairs.append((text, topic_of_intent(message.get(INTENT), message.get(INTENT_RESPONSE_KEY))))
    return pairs


def apply_detection(message: Message, detection: Detection, intent_prefix: str = "faq_") -> None:
    """Point the message at the sensitive topic for the detected category."""
    intent = message.get(INTENT) or {}
    ranking = [dict(item) for item in (message.get(INTENT_RANKING_KEY) or [])]
    sensitive = {intent_prefix + topic for topic in CATEGORY_TOPICS.values()}
    current = intent.get(INTENT_NAME_KEY)
    target = current if current in sensitive else intent_prefix + CATEGORY_TOPICS[detection.category]
    chosen = {INTENT_NAME_KEY: target, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [item for item in ranking if item.get(INTENT_NAME_KEY) != target]
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [dict(chosen)] + ranking, add_to_output=True)
    entities = [e for e in (message.get(ENTITIES) or []) if e.get("entity") != ENTITY]
    entities.append({"entity": ENTITY, "value": detection.category, "start": 0, "end": 0,
                     "extractor": "SafetyDetector"})
    message.set(ENTITIES, entities, add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SafetyDetector(GraphComponent, IntentClassifier):
    """Finds signs of crisis in every message and routes it to the caring answer."""

    @classmethod
    def required_components(cls) -> List[Type]:
        # It runs after the topic classifier (bot/config.yml) but needs none of
        # its training output; Rasa checks required components against the
        # training graph, where classifiers do not feed each other.
        return []

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Training signals and hard negatives, relative to the repository.
            "signals_file": str(SIGNALS_FILE),
            # Intent names of the knowledge topics: "faq_" + topic id.
            "intent_prefix": "faq_",
            **SafetyConfig().__dict__,
        }

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        # The signals file is read from disk, not passed through the graph:
        # a change to it (or to the detector's code) must retrain.
        return signals_fingerprint(Path(config.get("signals_file") or SIGNALS_FILE))

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[SafetyModel] = None,
    ) -> None:
        self.component_config = {**self.get_default_config(), **(config or {})}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SafetyDetector":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        started = time.monotonic()
        self.model = self.train_model(topic_examples(training_data))
        logger.info("Safety detector: trained in %.1f s (%d features, sentence embeddings %s)",
                    time.monotonic() - started, len(self.model.vocabulary),
                    "used" if self.model.has_embeddings else "not available")
        with self._model_storage.write_to(self._resource) as directory:
            self.model.persist(Path(directory))
        return self._resource

    def train_model(self, examples: Iterable[Tuple[str, Optional[str]]]) -> SafetyModel:
        signals = load_signals(Path(self.component_config["signals_file"]))
        texts, labels = training_pairs(examples, signals)
        config = SafetyConfig.from_dict(self.component_config)
        return SafetyModel.train(texts, labels, config, embed_many=embeddings.embed_many)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "SafetyDetector":
        try:
            with model_storage.read_from(resource) as directory:
                model = SafetyModel.load(Path(directory))
        except (ValueError, OSError, KeyError):
            # Without a trained model the phrase layer still runs (see process).
            logger.warning("Safety detector: no trained model found; only phrases are checked")
            model = None
        return cls(config, model_storage, resource, model)

    def detect(self, message: Message) -> Optional[Detection]:
        text = message.get(TEXT) or ""
        if self.model is None:
            from . import safety_lexicon

            found = safety_lexicon.matches(text)
            if not found:
                return None
            category = next(c for c in CATEGORY_TOPICS if c in found)
            return Detection(category, 1.0, "phrase", found[category])
        embedding = message.get(EMBEDDING_KEY)
        detection = self.model.detect(text, embedding=embedding, embed=embeddings.embed)
        return detection

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            try:
                detection = self.detect(message)
            except Exception:  # the safety net must never break a reply
                logger.exception("Safety detector failed on a message")
                continue
            if detection is None:
                continue
            apply_detection(message, detection, self.component_config["intent_prefix"])
            logger.info("Safety signal %s (%s layer, score %.2f)", detection.category, detection.layer, detection.score)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training examples keep their own intents.
        return training_data
