"""The direct path for topic intents predicts exactly what the trained rules predict.

Trains RulePolicy and TopicRulePolicy on the generated domain and rules, and
compares their next action for every topic intent: right after the citizen's
message, after the answer, and inside a form (where the direct path must step
aside).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUttered
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

from components.topic_rule_policy import ANSWER_ACTION, TopicRulePolicy

BOT = Path(__file__).resolve().parents[2] / "bot"
POLICY_CONFIG = {"core_fallback_threshold": 0.3, "core_fallback_action_name": "action_listen",
                 "enable_fallback_prediction": True}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    importer = TrainingDataImporter.load_from_dict(
        config_path=str(BOT / "config.yml"), domain_path=str(BOT / "domain"),
        training_data_paths=[str(BOT / "data")])
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0).generate()
    storage = LocalModelStorage(tmp_path_factory.mktemp("policies"))
    context = ExecutionContext(GraphSchema({}), "test")
    policies = {}
    for cls in (RulePolicy, TopicRulePolicy):
        policy = cls.create({**cls.get_default_config(), **POLICY_CONFIG}, storage,
                            Resource(cls.__name__), context)
        policy.train(trackers, domain)
        policies[cls] = policy
    return domain, policies[RulePolicy], policies[TopicRulePolicy]


def predicted(policy, tracker, domain) -> str:
    prediction = policy.predict_action_probabilities(tracker, domain)
    return domain.action_names_or_texts[prediction.max_confidence_index]


def conversation(domain, *events):
    return DialogueStateTracker.from_events("citizen", [ActionExecuted(ACTION_LISTEN_NAME), *events],
                                            slots=domain.slots)


def topic_intents(domain):
    intents = [i for i in domain.intents if i.startswith("faq_")]
    assert len(intents) > 30, "the generated domain should hold every knowledge topic"
    return intents


def test_every_topic_intent_is_answered_as_the_rules_say(trained):
    domain, rules, topic_rules = trained
    for intent in topic_intents(domain):
        tracker = conversation(domain, UserUttered("fråga", intent={"name": intent, "confidence": 0.9}))
        assert topic_rules.direct_action(tracker, domain) == ANSWER_ACTION
        assert predicted(topic_rules, tracker, domain) == predicted(rules, tracker, domain) == ANSWER_ACTION


def test_after_an_answer_the_assistant_listens_as_the_rules_say(trained):
    domain, rules, topic_rules = trained
    for intent in topic_intents(domain) + ["choose_topic"]:
        tracker = conversation(domain, UserUttered("fråga", intent={"name": intent, "confidence": 0.9}),
                               ActionExecuted(ANSWER_ACTION))
        assert predicted(topic_rules, tracker, domain) == predicted(rules, tracker, domain) == ACTION_LISTEN_NAME


def test_other_intents_and_open_forms_are_left_to_the_rules(trained):
    domain, rules, topic_rules = trained
    for intent in ("greet", "handover_request", "nlu_fallback", "sensitive_data_shared"):
        tracker = conversation(domain, UserUttered("hej", intent={"name": intent, "confidence": 0.9}))
        assert topic_rules.direct_action(tracker, domain) is None
        assert predicted(topic_rules, tracker, domain) == predicted(rules, tracker, domain)
    in_form = conversation(domain, ActiveLoop("contact_request_form"),
                           UserUttered("bygglov", intent={"name": "faq_bygglov", "confidence": 0.9}))
    assert topic_rules.direct_action(in_form, domain) is None
    assert predicted(topic_rules, in_form, domain) == predicted(rules, in_form, domain)
