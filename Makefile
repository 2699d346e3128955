# Mjölby chat assistant. `make run` runs it locally; `make test` runs every test.
# Virtual environments and trained models are cached under
# $(HOME)/.cache/mjolby-chat (override with MJOLBY_CACHE_DIR), keyed by their inputs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help run run-cluster stop-cluster bench-cluster start stop setup generate validate knowledge-export train test eval bench bench-insight bench-train widget widget-size purge lock-api lock-bot clean

help:
	@echo "make run          install what is missing, train if stale, start everything, print the URLs"
	@echo "make test         run all tests (what CI runs)"
	@echo "make start/stop   start or stop the assistant in the background"
	@echo "make run-cluster  the production topology here: PostgreSQL, Redis, HAProxy, 2 APIs, RASA_REPLICAS Rasa, 2 action servers"
	@echo "make stop-cluster stop it"
	@echo "make bench-cluster Rasa alone, embedded default, cluster with 1 and 2 Rasa replicas in one table (BENCH_ARGS=...)"
	@echo "make generate     regenerate bot/data from knowledge/"
	@echo "make validate     check knowledge/ and the Rasa training data"
	@echo "make knowledge-export write what editors changed in the console back to knowledge/ (then review and commit)"
	@echo "make train        train the model if its inputs changed"
	@echo "make eval         accuracy, new and old side by side (EVAL_FILE=..., BASELINE_REF=...); cross-validation; safety set"
	@echo "make bench        speed, new and old side by side (BENCH_ARGS=\"--seconds 5\", BASELINE_REF=...)"
	@echo "make bench-insight the insight page on 1 million generated conversations in PostgreSQL (BENCH_INSIGHT_ARGS=\"--conversations 20000\")"
	@echo "make bench-train  publishing: full retrain time, retrain after one added example, held-out accuracy"
	@echo "make widget-size  build the widget and print its size"
	@echo "make purge        delete conversations (and Rasa's events of them) older than the retention period"

run:
	@scripts/run.sh

setup:
	@scripts/setup.sh

run-cluster: setup
	@scripts/cluster.sh start

stop-cluster:
	@scripts/cluster.sh stop

bench-cluster: setup
	@source scripts/common.sh && "$$BOT_PY" tools/bench_cluster.py $(BENCH_ARGS)

start: setup
	@scripts/start.sh

stop:
	@scripts/stop.sh

generate:
	@source scripts/common.sh && "$$API_PY" tools/generate.py

validate:
	@scripts/setup.sh --no-generate --no-train
	@source scripts/common.sh && "$$API_PY" tools/knowledge_loader.py && "$$API_PY" tools/generate.py --check
	@source scripts/common.sh && cd bot && "$$BOT_VENV/bin/rasa" data validate --domain domain --data data --config config.yml --fail-on-warnings

knowledge-export:
	@source scripts/common.sh && cd api && "$$API_PY" -m mjolby.knowledge_store.cli export --to ../knowledge

train:
	@scripts/setup.sh

test:
	@scripts/test.sh

eval:
	@scripts/eval.sh $(EVAL_FILE) $(EVAL_ARGS)

bench:
	@scripts/bench.sh $(BENCH_ARGS)

bench-insight: setup
	@source scripts/common.sh && "$$API_PY" tools/bench_insight.py $(BENCH_INSIGHT_ARGS)

bench-train: setup
	@source scripts/common.sh && export BOT_PY MJOLBY_EMBEDDING_CACHE && nice -n 10 "$$API_PY" tools/bench_train.py

widget:
	@python3 widget/build.py

widget-size:
	@python3 widget/build.py --size

purge:
	@source scripts/common.sh && cd api \
	  && export TRACKER_DATABASE_URL="$${TRACKER_DATABASE_URL:-sqlite:///$${RASA_TRACKER_DB:-$$DATA_DIR/rasa_tracker.db}}" \
	  && "$$API_PY" -m mjolby.retention

lock-api:
	@source scripts/common.sh && "$$API_VENV/bin/pip" freeze --exclude-editable > api/requirements.lock

lock-bot:
	@source scripts/common.sh && "$$BOT_VENV/bin/pip" freeze --exclude-editable > bot/requirements.lock

clean:
	@scripts/stop.sh; rm -rf var bot/build widget/dist
