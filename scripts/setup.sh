#!/usr/bin/env bash
# Install what is missing: both virtual environments, generated training data and a trained model (only when stale).
# Usage: scripts/setup.sh [--no-generate] [--no-train]
#   --no-generate  leave bot/data as it is (the tests check it against knowledge/ first)
#   --no-train     do not train the model
source "$(dirname "$0")/common.sh"

generate=1 train=1
for arg in "$@"; do
  case "$arg" in
    --no-generate) generate=0 ;;
    --no-train) train=0 ;;
    *) die "unknown option $arg (usage: scripts/setup.sh [--no-generate] [--no-train])" ;;
  esac
done

make_venv() {  # make_venv DIR PYTHON LOCKFILE LABEL
  local dir="$1" python="$2" lock="$3" label="$4"
  if [ -f "$dir/.complete" ]; then return 0; fi
  say "Creating the $label environment (first run only, a few minutes)"
  rm -rf "$dir"
  mkdir -p "$CACHE_DIR"
  "$python" -m venv "$dir"
  "$dir/bin/pip" install --quiet --upgrade 'pip<25' 'setuptools<70' wheel 2>/dev/null
  local log="$CACHE_DIR/pip-$(basename "$dir").log"
  if ! "$dir/bin/pip" install --progress-bar off -r "$REPO/$lock" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "installing the $label environment failed (full log: $log)"
  fi
  grep -E "^Successfully installed" "$log" | cut -c1-200 >&2 || true
  "$dir/bin/pip" check >/dev/null || die "the $label environment has conflicting packages"
  touch "$dir/.complete"
}

PY310="$(find_python310)" || die "python3.10 was not found. Rasa 3.6 needs Python 3.10: install it (e.g. 'pyenv install 3.10') or set PYTHON310=/path/to/python3.10."
command -v python3 >/dev/null || die "python3 (3.11 or newer) was not found; the API needs it."
python3 -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null \
  || die "the API needs Python 3.11 or newer as python3."

make_venv "$BOT_VENV" "$PY310" bot/requirements.lock "bot (Rasa, Python 3.10)"
make_venv "$API_VENV" python3 api/requirements.lock "API (FastAPI, Python 3)"


say "Building the chat widget"
# build.py installs the pinned esbuild with `npm ci` when widget/node_modules is
# missing or widget/package-lock.json has changed.
command -v npm >/dev/null || die "npm was not found; the widget is bundled with esbuild from npm. Install Node.js 18 or newer with npm (Debian: apt-get install nodejs npm)."
"$API_PY" "$REPO/widget/build.py" >/dev/null || die "building the widget failed"

if [ "$generate" = 1 ]; then
  say "Generating training data from knowledge/"
  "$API_PY" "$REPO/tools/generate.py"
fi

if [ "$train" = 1 ]; then
  "$REPO/scripts/train.sh"
fi
