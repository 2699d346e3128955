#!/usr/bin/env bash
# The one command to run the assistant locally: install what is missing, train
# if the model is stale, start everything and print the URLs. Ctrl-C stops it.
source "$(dirname "$0")/common.sh"
"$REPO/scripts/setup.sh"
trap '"$REPO/scripts/stop.sh"; exit 0' INT TERM
"$REPO/scripts/start.sh"
say "Press Ctrl-C to stop."
while kill -0 "$(cat "$DATA_DIR/run/api.pid")" 2>/dev/null; do sleep 2; done
"$REPO/scripts/stop.sh"
