#!/usr/bin/env bash
# Topic accuracy through the running chat API (started if it is not running).
# Usage: scripts/eval.sh [EVAL_FILE]
source "$(dirname "$0")/common.sh"
"$REPO/scripts/setup.sh"
"$REPO/scripts/start.sh" >/dev/null
"$API_PY" "$REPO/tools/evaluate.py" ${1:+"$1"} --api-url "http://127.0.0.1:$API_PORT"
