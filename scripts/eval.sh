#!/usr/bin/env bash
# Everything about understanding, in one run:
#  1. topic accuracy on an evaluation file through the chat API, for this
#     checkout ("new") and an earlier version ("old", BASELINE_REF, default
#     a712de4; BASELINE_REF=none or --no-baseline for new only), each started
#     on its own ports in a fresh data folder, next to a TF-IDF baseline;
#  2. the cross-validated accuracy of the topic model on knowledge/, per style;
#  3. the safety net's recall and false alarms on its evaluation set.
# Usage: scripts/eval.sh [EVAL_FILE] [tools/evaluate.py options]
# (default EVAL_FILE: ../shared/eval/sample.yml next to the repository)
source "$(dirname "$0")/common.sh"
"$REPO/scripts/setup.sh"
failed=0
say "Topic accuracy through the chat API"
"$API_PY" "$REPO/tools/evaluate.py" "$@" || failed=1
say "Cross-validation of the topic model on knowledge/"
"$BOT_PY" "$REPO/tools/crossval.py" || failed=1
say "Safety net on its evaluation set"
"$BOT_PY" "$REPO/tools/safety_eval.py" || failed=1
exit "$failed"
