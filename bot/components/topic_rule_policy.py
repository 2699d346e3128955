"""RulePolicy with a direct path for the one rule every knowledge topic has.

tools/generate.py writes one rule per topic: `faq_<topic>` is answered by
`action_answer_faq`, after which the assistant listens. RulePolicy finds that
by turning the whole conversation into states and matching them against every
rule key, twice (by text, then by intent), before and after the answer: about
a fifth of Rasa's CPU per message. Those two predictions need only the last
intent and the last action, so this policy makes them directly and leaves
everything else (loops, forms, handover, fallback, default actions) to
RulePolicy unchanged.

The direct path is taken only where the generated rules say the same thing;
tests/bot/test_topic_rule_policy.py compares both for every topic intent.
"""
from __future__ import annotations

from typing import Optional, Text, Tuple

from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

TOPIC_INTENT_PREFIX = "faq_"
ANSWER_ACTION = "action_answer_faq"
SOURCE = "topic rule: faq_<topic> -> action_answer_faq -> action_listen"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True
)
class TopicRulePolicy(RulePolicy):
    """RulePolicy that answers a topic intent without matching every rule."""

    def direct_action(self, tracker: DialogueStateTracker, domain: Domain) -> Optional[Text]:
        """The action the topic rules predict here, or None when RulePolicy must decide."""
        if tracker.active_loop_name or tracker.followup_action:
            return None
        latest_action = tracker.latest_action_name
        if latest_action == ANSWER_ACTION:
            return ACTION_LISTEN_NAME
        if latest_action != ACTION_LISTEN_NAME or tracker.latest_message is None:
            return None
        intent = tracker.latest_message.intent.get(INTENT_NAME_KEY) or ""
        if intent.startswith(TOPIC_INTENT_PREFIX) and intent in domain.intents:
            return ANSWER_ACTION
        return None

    def _predict(
        self, tracker: DialogueStateTracker, domain: Domain
    ) -> Tuple[PolicyPrediction, Optional[Text]]:
        action = self.direct_action(tracker, domain)
        if action is None:
            return super()._predict(tracker, domain)
        prediction = PolicyPrediction(
            self._prediction_result(action, tracker, domain),
            self.__class__.__name__,
            self.priority,
            # No stories: like every rule turn, it is hidden from ML policies.
            hide_rule_turn=True,
        )
        return prediction, SOURCE
