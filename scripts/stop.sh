#!/usr/bin/env bash
# Stop what scripts/start.sh started for this DATA_DIR.
source "$(dirname "$0")/common.sh"
RUN_DIR="$DATA_DIR/run"
for svc in worker api rasa actions; do
  pidfile="$RUN_DIR/$svc.pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
done
