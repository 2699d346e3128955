#!/usr/bin/env bash
# Benchmark a fresh instance of the assistant on its own ports and data folder,
# through the chat API and straight against Rasa's REST webhook.
source "$(dirname "$0")/common.sh"
"$REPO/scripts/setup.sh"
BENCH_DIR="$(mktemp -d)"
export DATA_DIR="$BENCH_DIR/var" API_PORT="${BENCH_PORT:-18200}"
export RASA_PORT=$((API_PORT + 1)) ACTIONS_PORT=$((API_PORT + 2))
# The benchmark is one client sending on behalf of many citizens.
export RATE_LIMIT_CLIENT_PER_MINUTE=0 RATE_LIMIT_CONVERSATION_PER_MINUTE=100000 LOG_LEVEL=WARNING
trap '"$REPO/scripts/stop.sh"; rm -rf "$BENCH_DIR"' EXIT
"$REPO/scripts/train.sh" >/dev/null
"$REPO/scripts/start.sh" >/dev/null
"$API_PY" "$REPO/tools/bench.py" --api-url "http://127.0.0.1:$API_PORT" --rasa-url "http://127.0.0.1:$RASA_PORT" \
  --json "$REPO/var/bench/bench-$(date +%Y%m%d-%H%M%S).json" "$@"
