#!/usr/bin/env bash
# Start the action server, Rasa and the API in the background on the embedded
# default (SQLite under DATA_DIR), wait until the API reports the bot ready,
# and print the URLs. Stop them with scripts/stop.sh.
source "$(dirname "$0")/common.sh"

RUN_DIR="$DATA_DIR/run"
LOG_DIR="$DATA_DIR/logs"
mkdir -p "$RUN_DIR" "$LOG_DIR" "$DATA_DIR/models"
MODEL="$DATA_DIR/models/current.tar.gz"
[ -f "$MODEL" ] || die "no trained model in $DATA_DIR/models; run scripts/setup.sh first"

running() { [ -f "$RUN_DIR/$1.pid" ] && kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; }
# Every service writes its output through this: a file under $LOG_DIR that
# starts afresh at midnight and is kept LOG_RETENTION_DAYS days (within
# RETENTION_DAYS), with identity numbers masked. It ends with the service.
# Its own output must not hold this script's stdout open.
log_to() {
  cd "$REPO/api" && exec "$API_PY" -m mjolby.logging_setup --to "$1" >/dev/null 2>>"$LOG_DIR/log-writer.err"
}

export ENVIRONMENT="${ENVIRONMENT:-development}"
export RASA_URL="http://127.0.0.1:$RASA_PORT"
export ACTION_SERVER_URL="http://127.0.0.1:$ACTIONS_PORT"
export ACTION_ENDPOINT_URL="$ACTION_SERVER_URL/webhook"
export API_INTERNAL_URL="http://127.0.0.1:$API_PORT"
export RASA_TRACKER_DB="${RASA_TRACKER_DB:-$DATA_DIR/rasa_tracker.db}"
export RASA_ENDPOINTS="${RASA_ENDPOINTS:-endpoints.yml}"
export SANIC_HOST=127.0.0.1
export TF_CPP_MIN_LOG_LEVEL=3
# One TensorFlow thread each: the model is small, Rasa answers on one event
# loop anyway, and the second core stays free for the API and the actions.
export TF_INTRA_OP_PARALLELISM_THREADS="${TF_INTRA_OP_PARALLELISM_THREADS:-1}"
export TF_INTER_OP_PARALLELISM_THREADS="${TF_INTER_OP_PARALLELISM_THREADS:-1}"
# The same for numpy's BLAS and the sentence embedder's OpenMP: one message is
# too small to share between threads, and idle threads that spin for work
# doubled the CPU per message (measured: NLU median 17 ms against 8 ms).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
# Development only: a per-data-folder token for the actions -> API calls.
if [ -z "${INTERNAL_API_TOKEN:-}" ]; then
  [ -f "$DATA_DIR/.internal_token" ] || (umask 077; "$API_PY" -c 'import secrets; print(secrets.token_urlsafe(32))' > "$DATA_DIR/.internal_token")
  INTERNAL_API_TOKEN="$(cat "$DATA_DIR/.internal_token")"
fi
export INTERNAL_API_TOKEN

if ! running actions; then
  say "Starting the action server on 127.0.0.1:$ACTIONS_PORT"
  # The actions check for identity numbers with the API's module (api/mjolby_pii.py).
  (cd "$REPO/bot" && PYTHONPATH="$REPO/api${PYTHONPATH:+:$PYTHONPATH}" exec "$BOT_VENV/bin/python" -m rasa_sdk --actions actions -p "$ACTIONS_PORT" --quiet \
      > >(log_to actions.log) 2>&1) &
  echo $! > "$RUN_DIR/actions.pid"
fi
if ! running api; then
  say "Starting the API on port $API_PORT"
  (cd "$REPO/api" && exec "$API_VENV/bin/python" -m uvicorn mjolby.main:app --host "${API_HOST:-127.0.0.1}" \
      --port "$API_PORT" --no-access-log > >(log_to api.out) 2>&1) &
  echo $! > "$RUN_DIR/api.pid"
fi
# Rasa loads the published model from the API (bot/endpoints.yml `models:`), so the API starts first.
if ! running rasa; then
  say "Starting Rasa on 127.0.0.1:$RASA_PORT"
  (cd "$REPO/bot" && exec "$BOT_VENV/bin/rasa" run --model "$MODEL" --endpoints "$RASA_ENDPOINTS" \
      --credentials credentials.yml -i 127.0.0.1 -p "$RASA_PORT" \
      > >(log_to rasa.log) 2>&1) &
  echo $! > "$RUN_DIR/rasa.pid"
fi
# PUBLISH_WORKER=0 leaves it out (measurements that must not share the CPU).
services="actions rasa api"
if [ "${PUBLISH_WORKER:-1}" != 0 ]; then services="$services worker"; fi
if [ "${PUBLISH_WORKER:-1}" != 0 ] && ! running worker; then
  say "Starting the training worker (publishing from the staff console)"
  # Trains and evaluates models editors publish, one at a time, at low priority.
  (cd "$REPO/api" && BOT_PY="$BOT_PY" RASA_CACHE_DIRECTORY="$CACHE_DIR/rasa-cache" \
      exec "$API_VENV/bin/python" -m mjolby.publishing.worker > >(log_to worker.log) 2>&1) &
  echo $! > "$RUN_DIR/worker.pid"
fi

say "Waiting for the assistant to be ready (loading the model takes a little while)"
for _ in $(seq 1 180); do
  if curl -fsS "http://127.0.0.1:$API_PORT/api/v1/health" >/dev/null 2>&1; then
    base="http://127.0.0.1:$API_PORT"
    cat <<TXT

  The Mjölby chat assistant is running.
    Demo page (the widget as on mjolby.se):  $base/
    Chat API:                                $base/api/v1   (OpenAPI: $base/api/v1/openapi.json)
    Staff console (Medborgarservice):        $base/staff/
    Logs:                                    $LOG_DIR
  Stop it with: make stop

TXT
    exit 0
  fi
  for svc in $services; do
    running "$svc" || { tail -n 20 "$LOG_DIR/$svc"*.out "$LOG_DIR/$svc.log" 2>/dev/null >&2 || true; die "$svc stopped while starting; see $LOG_DIR"; }
  done
  sleep 1
done
die "the assistant did not become ready in 3 minutes; see $LOG_DIR"
