#!/usr/bin/env bash
# Run every test: knowledge validation, Rasa data validation, training (only
# when stale), conversation tests, the bot's action tests, the API tests on
# SQLite and PostgreSQL, end-to-end tests against the running assistant, the
# widget's and the staff console's browser tests, and the compose file check.
# Prints one summary line "N passed, N failed, N skipped" at the end.
source "$(dirname "$0")/common.sh"

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-}"
if [ -z "$TEST_DATABASE_URL" ]; then
  echo "note: TEST_DATABASE_URL is not set; PostgreSQL tests will be skipped with that reason" >&2
fi
RESULTS="$(mktemp -d)"
failures=0

step() { say "$1"; }
record() {  # record NAME STATUS: count a non-pytest check as one test
  if [ "$2" -eq 0 ]; then echo "$1" >> "$RESULTS/passed"; else echo "$1" >> "$RESULTS/failed"; failures=$((failures + 1)); fi
}

scripts/setup.sh
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
  missing+=(docker-compose)
fi
if [ ${#missing[@]} -gt 0 ]; then
  step "Installing Debian packages the tests need: ${missing[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
    || die "could not install ${missing[*]} (needed by the browser tests and the compose check)"
fi

step "Validating knowledge/ and checking the generated training data is current"
"$API_PY" tools/knowledge_loader.py && "$API_PY" tools/generate.py --check; record knowledge $?

step "rasa data validate"
(cd bot && "$BOT_VENV/bin/rasa" data validate --domain domain --data data --config config.yml 2>&1 \
  | grep -vE "tensorflow|oneDNN|cuda|TensorRT|rebuild TensorFlow|AVX|^\s*$" ); record rasa-data-validate "${PIPESTATUS[0]}"

step "Conversation tests (rasa test --fail-on-prediction-errors)"
(cd bot && "$BOT_VENV/bin/rasa" test core --model "$DATA_DIR/models/current.tar.gz" --stories tests \
   --endpoints endpoints.yml --fail-on-prediction-errors --out "$DATA_DIR/test-results/core" >"$RESULTS/rasa-core.log" 2>&1)
status=$?
grep -E "Finished|Correct|failed|Failed|stories" "$RESULTS/rasa-core.log" | tail -n 8 >&2 || true
[ $status -eq 0 ] || cat "$DATA_DIR/test-results/core/failed_test_stories.yml" >&2 2>/dev/null || true
record rasa-conversation-tests $status

step "Action tests (bot environment)"
"$BOT_PY" -m pytest tests/bot -q -p no:cacheprovider --junitxml="$RESULTS/bot.xml"; [ $? -le 1 ] || failures=$((failures + 1))

step "API, handover, end-to-end, widget and console tests (API environment)"
"$API_PY" -m pytest tests --ignore=tests/bot -q -p no:cacheprovider --junitxml="$RESULTS/api.xml"; [ $? -le 1 ] || failures=$((failures + 1))

"$API_PY" - "$RESULTS" <<'PY'
import sys, pathlib, xml.etree.ElementTree as ET
root = pathlib.Path(sys.argv[1])
passed = failed = skipped = 0
for xml in root.glob("*.xml"):
    for suite in ET.parse(xml).getroot().iter("testsuite"):
        tests, fail = int(suite.get("tests", 0)), int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skip = int(suite.get("skipped", 0))
        passed += tests - fail - skip; failed += fail; skipped += skip
for name, bucket in (("passed", "passed"), ("failed", "failed")):
    f = root / name
    if f.exists():
        n = len(f.read_text().split())
        if bucket == "passed": passed += n
        else: failed += n
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
summary=$?
rm -rf "$RESULTS"
[ $summary -eq 0 ] && [ $failures -eq 0 ]
