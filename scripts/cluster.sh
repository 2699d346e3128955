#!/usr/bin/env bash
# The production topology on this machine, without Docker:
#   HAProxy (Debian's package; installed when missing) on one port in front of
#   2 API processes, and in front of 2 action servers;
#   N Rasa replicas (RASA_REPLICAS, default 2) on bot/endpoints.production.yml:
#   tracker store in PostgreSQL, lock store in Redis;
#   the API on PostgreSQL, with Redis for live events and rate limits;
#   one training worker for the models editors publish.
# Every replica pulls the published model from the API (`models:` in the
# endpoints file), so a publish reaches all of them within seconds.
# The API routes every conversation to one Rasa replica (api/mjolby/rasa_client.py).
# A watchdog restarts whatever stops, as `restart: unless-stopped` does in
# docker-compose.yml.
#
#   scripts/cluster.sh start    start what is not running, wait until ready, print the URLs
#   scripts/cluster.sh stop     stop everything this script started
#   scripts/cluster.sh status   one line per process
#
# It runs beside `make run` and the tests: its own ports, its own folder
# (CLUSTER_DIR, default DATA_DIR/cluster), its own PostgreSQL databases
# (CLUSTER_DB, CLUSTER_DB_tracker) and its own Redis database number for the API.
# A file CLUSTER_DIR/run/<name>.hold keeps the watchdog from restarting <name>.
source "$(dirname "$0")/common.sh"

CLUSTER_DIR="${CLUSTER_DIR:-$DATA_DIR/cluster}"
RUN_DIR="$CLUSTER_DIR/run"
LOG_DIR="$CLUSTER_DIR/logs"
RASA_REPLICAS="${RASA_REPLICAS:-2}"
PROXY_PORT="${CLUSTER_PROXY_PORT:-8080}"
API_PORT_BASE="${CLUSTER_API_PORT_BASE:-8101}"        # API n listens on base+n-1
RASA_PORT_BASE="${CLUSTER_RASA_PORT_BASE:-5105}"
ACTIONS_PORT_BASE="${CLUSTER_ACTIONS_PORT_BASE:-5155}"
ACTIONS_PROXY_PORT="${CLUSTER_ACTIONS_PROXY_PORT:-5150}"
PG_HOST="${CLUSTER_PG_HOST:-127.0.0.1}"
PG_PORT="${CLUSTER_PG_PORT:-5432}"
PG_USER="${CLUSTER_PG_USER:-postgres}"
CLUSTER_DB="${CLUSTER_DB:-mjolby_cluster}"
REDIS_HOST="${CLUSTER_REDIS_HOST:-127.0.0.1}"
REDIS_PORT="${CLUSTER_REDIS_PORT:-6379}"
REDIS_DB="${CLUSTER_REDIS_DB:-3}"
# The first published model: copied into CLUSTER_DIR/models at the first start,
# where both API processes serve it (and later published ones) to every replica.
# A retrain elsewhere does not change what the cluster serves.
SOURCE_MODEL="${CLUSTER_MODEL:-$DATA_DIR/models/current.tar.gz}"
MODEL="$CLUSTER_DIR/models/current.tar.gz"
API_COUNT=2
ACTIONS_COUNT=2

services() {
  echo proxy
  for n in $(seq 1 "$ACTIONS_COUNT"); do echo "actions-$n"; done
  for n in $(seq 1 "$API_COUNT"); do echo "api-$n"; done
  echo worker
  for n in $(seq 1 "$RASA_REPLICAS"); do echo "rasa-$n"; done
}
pid_of() { cat "$RUN_DIR/$1.pid" 2>/dev/null || true; }
running() { local pid; pid="$(pid_of "$1")"; [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
port_of() {
  case "$1" in
    proxy) echo "$PROXY_PORT" ;;
    worker) echo "-" ;;
    actions-*) echo $((ACTIONS_PORT_BASE + ${1#actions-} - 1)) ;;
    api-*) echo $((API_PORT_BASE + ${1#api-} - 1)) ;;
    rasa-*) echo $((RASA_PORT_BASE + ${1#rasa-} - 1)) ;;
  esac
}
rasa_urls() {
  local n urls=()
  for n in $(seq 1 "$RASA_REPLICAS"); do urls+=("http://127.0.0.1:$(port_of "rasa-$n")"); done
  (IFS=,; echo "${urls[*]}")
}
answers() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }
# Output of a service: a file under LOG_DIR, identity numbers masked (as start.sh does).
log_to() {
  cd "$REPO/api" && DATA_DIR="$CLUSTER_DIR" exec "$API_PY" -m mjolby.logging_setup --to "$1" \
    >/dev/null 2>>"$LOG_DIR/log-writer.err"
}

install_proxy() {
  command -v haproxy >/dev/null 2>&1 && return 0
  say "Installing Debian's haproxy (the reverse proxy in front of the API processes)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null \
    || die "could not install haproxy; install it with: apt-get install haproxy"
}

# With a fresh CLUSTER_DIR the databases start afresh too: they name model
# files and hold conversations of the folder that is gone.
ensure_databases() {
  local db fresh="$1"
  for db in "$CLUSTER_DB" "${CLUSTER_DB}_tracker"; do
    if [ "$fresh" = 1 ]; then
      psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
        || die "could not drop the PostgreSQL database $db of an earlier cluster"
    fi
    if [ "$(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
      psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -q -c "CREATE DATABASE $db" \
        || die "could not create the PostgreSQL database $db on $PG_HOST:$PG_PORT"
    fi
  done
}

export_environment() {
  export ENVIRONMENT="${ENVIRONMENT:-development}"
  if [ -z "${INTERNAL_API_TOKEN:-}" ]; then
    [ -f "$CLUSTER_DIR/.internal_token" ] || (umask 077; "$API_PY" -c 'import secrets; print(secrets.token_urlsafe(32))' > "$CLUSTER_DIR/.internal_token")
    INTERNAL_API_TOKEN="$(cat "$CLUSTER_DIR/.internal_token")"
  fi
  export INTERNAL_API_TOKEN
  # The proxy (deploy/haproxy.cfg).
  export PROXY_BIND="127.0.0.1:$PROXY_PORT" ACTIONS_BIND="127.0.0.1:$ACTIONS_PROXY_PORT"
  export API_1="127.0.0.1:$(port_of api-1)" API_2="127.0.0.1:$(port_of api-2)"
  export ACTIONS_1="127.0.0.1:$(port_of actions-1)" ACTIONS_2="127.0.0.1:$(port_of actions-2)"
  # The API processes.
  export DATABASE_URL="postgresql+psycopg://$PG_USER@$PG_HOST:$PG_PORT/$CLUSTER_DB"
  export REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT/$REDIS_DB"
  export RASA_URL="$(rasa_urls)"
  export ACTION_SERVER_URL="http://$ACTIONS_BIND"
  export PUBLIC_BASE_URL="http://127.0.0.1:$PROXY_PORT"
  export FORWARDED_ALLOW_IPS=127.0.0.1
  # The action servers call the API's internal routes through the proxy.
  export API_INTERNAL_URL="http://127.0.0.1:$PROXY_PORT"
  # Rasa, with the production endpoints file.
  export ACTION_ENDPOINT_URL="http://$ACTIONS_BIND/webhook"
  export TRACKER_DB_HOST="$PG_HOST" TRACKER_DB_PORT="$PG_PORT" TRACKER_DB="${CLUSTER_DB}_tracker"
  export TRACKER_DB_USER="$PG_USER" TRACKER_DB_PASSWORD="${CLUSTER_PG_PASSWORD:-}"
  export REDIS_HOST REDIS_PORT
  # How long a conversation's lock outlives a replica killed while holding it
  # (Rasa's default is 60 s). The owner's turns take well under a second; see
  # docs/capacity.md for the trade-off.
  export TICKET_LOCK_LIFETIME="${TICKET_LOCK_LIFETIME:-3}"
  export SANIC_HOST=127.0.0.1 TF_CPP_MIN_LOG_LEVEL=3
  export TF_INTRA_OP_PARALLELISM_THREADS=1 TF_INTER_OP_PARALLELISM_THREADS=1
  export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
}

start_service() {
  local name="$1" port
  port="$(port_of "$name")"
  case "$name" in
    proxy)
      (exec haproxy -db -f "$REPO/deploy/haproxy.cfg" > >(log_to proxy.log) 2>&1) & ;;
    actions-*)
      (cd "$REPO/bot" && PYTHONPATH="$REPO/api${PYTHONPATH:+:$PYTHONPATH}" exec "$BOT_PY" -m rasa_sdk \
          --actions actions -p "$port" --quiet > >(log_to "$name.log") 2>&1) & ;;
    api-*)
      # One DATA_DIR for both: the published models are files both must serve.
      (cd "$REPO/api" && DATA_DIR="$CLUSTER_DIR" API_PORT="$port" exec "$API_PY" -m uvicorn mjolby.main:app \
          --host 127.0.0.1 --port "$port" --no-access-log > >(log_to "$name.out") 2>&1) & ;;
    worker)
      (cd "$REPO/api" && DATA_DIR="$CLUSTER_DIR" BOT_PY="$BOT_PY" RASA_CACHE_DIRECTORY="$CACHE_DIR/rasa-cache" \
          exec "$API_PY" -m mjolby.publishing.worker > >(log_to worker.log) 2>&1) & ;;
    rasa-*)
      # --model only names a file; the model server in the endpoints file decides.
      (cd "$REPO/bot" && exec "$BOT_VENV/bin/rasa" run --model "$MODEL" --endpoints endpoints.production.yml \
          --credentials credentials.yml -i 127.0.0.1 -p "$port" > >(log_to "$name.log") 2>&1) & ;;
  esac
  echo $! > "$RUN_DIR/$name.pid"
}

# Whether a service answers (what the watchdog and `start` wait for).
ready() {
  local port
  port="$(port_of "$1")"
  case "$1" in
    proxy) answers "http://127.0.0.1:$port/api/v1/health" ;;
    actions-*) answers "http://127.0.0.1:$port/health" ;;
    api-*) curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/api/v1/health" ;;
    rasa-*) answers "http://127.0.0.1:$port/webhooks/gateway/health" ;;
    worker) running worker ;;
  esac
}

wait_ready() {
  local name="$1" seconds="$2"
  for _ in $(seq 1 "$seconds"); do
    ready "$name" && return 0
    running "$name" || { tail -n 20 "$LOG_DIR/$name".* >&2 2>/dev/null || true; die "$name stopped while starting; see $LOG_DIR"; }
    sleep 1
  done
  die "$name was not ready after $seconds s; see $LOG_DIR"
}

# Restart what stopped, unless held. Runs until `stop`.
watch() {
  while true; do
    sleep 1
    for name in $(services); do
      [ -f "$RUN_DIR/$name.hold" ] && continue
      running "$name" || { echo "$(date -u +%FT%TZ) restarting $name" >> "$LOG_DIR/watchdog.log"; start_service "$name"; }
    done
  done
}

cmd_start() {
  install_proxy
  [ -f "$SOURCE_MODEL" ] || [ -f "$MODEL" ] || die "no trained model at $SOURCE_MODEL; run scripts/setup.sh first"
  local fresh=0
  [ -f "$MODEL" ] || fresh=1
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$CLUSTER_DIR/models"
  pg_isready -q -h "$PG_HOST" -p "$PG_PORT" || die "PostgreSQL does not answer at $PG_HOST:$PG_PORT"
  redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1 || die "Redis does not answer at $REDIS_HOST:$REDIS_PORT"
  ensure_databases "$fresh"
  export_environment
  haproxy -c -q -f "$REPO/deploy/haproxy.cfg" || die "deploy/haproxy.cfg is not valid"
  if [ "$fresh" = 1 ]; then
    cp "$SOURCE_MODEL" "$MODEL.tmp" && mv "$MODEL.tmp" "$MODEL"
  fi

  say "Starting the cluster: proxy :$PROXY_PORT, $API_COUNT API processes, $RASA_REPLICAS Rasa replicas, $ACTIONS_COUNT action servers"
  local name
  for name in proxy actions-1 actions-2 api-1; do running "$name" || start_service "$name"; done
  # One process at a time creates the tables: the API's migrations, Rasa's
  # tracker table, the first model version. Rasa pulls its model from the API.
  wait_ready api-1 120
  for name in api-2 worker rasa-1; do running "$name" || start_service "$name"; done
  wait_ready rasa-1 300
  for n in $(seq 2 "$RASA_REPLICAS"); do running "rasa-$n" || start_service "rasa-$n"; done
  for name in $(services); do wait_ready "$name" 300; done
  if ! running watchdog; then
    (watch) </dev/null >/dev/null 2>&1 &
    echo $! > "$RUN_DIR/watchdog.pid"
  fi
  local base="http://127.0.0.1:$PROXY_PORT"
  cat <<TXT

  The Mjölby chat assistant is running as a cluster.
    Demo page:       $base/
    Chat API:        $base/api/v1
    Staff console:   $base/staff/
    API processes:   http://$API_1  http://$API_2
    Rasa replicas:   ${RASA_URL//,/  }
    Action servers:  http://$ACTIONS_1  http://$ACTIONS_2  (through http://$ACTIONS_BIND)
    PostgreSQL:      $PG_HOST:$PG_PORT, databases $CLUSTER_DB and ${CLUSTER_DB}_tracker
    Redis:           $REDIS_HOST:$REDIS_PORT (API db $REDIS_DB, Rasa's lock store db 1)
    Logs:            $LOG_DIR
  Stop it with: scripts/cluster.sh stop

TXT
}

stop_pid() {
  local pid="$1"
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

cmd_stop() {
  local name pid
  for name in watchdog $(services); do
    pid="$(pid_of "$name")"
    [ -n "$pid" ] && stop_pid "$pid"
    rm -f "$RUN_DIR/$name.pid" "$RUN_DIR/$name.hold"
  done
  # Replicas started with a larger RASA_REPLICAS than this call knows of.
  for pidfile in "$RUN_DIR"/rasa-*.pid; do
    [ -f "$pidfile" ] || continue
    stop_pid "$(cat "$pidfile")"
    rm -f "$pidfile"
  done
}

cmd_status() {
  local name state
  for name in watchdog $(services); do
    if ! running "$name"; then state="stopped"
    elif [ "$name" = watchdog ] || ready "$name"; then state="ready"
    else state="starting"; fi
    printf '%-10s %-6s %-9s %s\n' "$name" "$(port_of "$name")" "$state" "$(pid_of "$name")"
  done
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) export_environment >/dev/null 2>&1 || true; cmd_status ;;
  *) echo "usage: scripts/cluster.sh start|stop|status" >&2; exit 2 ;;
esac
