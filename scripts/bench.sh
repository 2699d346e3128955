#!/usr/bin/env bash
# Benchmark this checkout ("new") side by side with an earlier version ("old",
# BASELINE_REF, default a712de4; BASELINE_REF=none for new only). Each runs
# from its own model, on its own ports (new 18200-18202, old 18210-18212) and
# in a fresh data folder; see tools/bench.py for the phases and options, e.g.
#   scripts/bench.sh --seconds 5 --rounds 1      (a quick look)
# The first run of a baseline may train its model for a long time
# (scripts/baseline.sh); it is cached afterwards.
source "$(dirname "$0")/common.sh"
"$REPO/scripts/setup.sh"
# The load generator runs in the bot's environment, which has aiohttp (a lighter
# client than the API environment's httpx: the load shares the two cores).
exec "$BOT_PY" "$REPO/tools/bench.py" "$@"
