# Shared settings for the project's scripts. Source it; do not run it.
# Virtual environments and trained models are cached under CACHE_DIR, keyed by
# the hash of their inputs, so a fresh clone reuses them when nothing changed.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${MJOLBY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mjolby-chat}"
export DATA_DIR="${DATA_DIR:-$REPO/var}"
export API_PORT="${API_PORT:-8000}"
export RASA_PORT="${RASA_PORT:-5005}"
export ACTIONS_PORT="${ACTIONS_PORT:-5055}"
# The scripts run the assistant locally. The API itself defaults to production
# (a deployment that forgets ENVIRONMENT fails closed), so say it here.
export ENVIRONMENT="${ENVIRONMENT:-development}"
# Rasa must not try to send usage data or crash reports anywhere.
export RASA_TELEMETRY_ENABLED=false

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

hash_files() {
  # A short content hash of the given files (sorted, names included).
  (cd "$REPO" && for f in "$@"; do [ -e "$f" ] && find "$f" -type f -not -path '*/__pycache__/*' -not -name '*.pyc'; done \
    | LC_ALL=C sort | while read -r f; do printf '%s\n' "$f"; cat "$f"; done) | sha256sum | cut -c1-16
}

find_python310() {
  local candidate
  for candidate in "${PYTHON310:-}" python3.10; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
      command -v "$candidate"; return 0
    fi
  done
  # pyenv installs shims that only answer when the version is selected.
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/3.10*/bin/python3.10; do
      [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
  fi
  return 1
}

# Sentence embeddings of training examples, one file per text: a retrain only
# embeds the examples that are new.
export MJOLBY_EMBEDDING_CACHE="${MJOLBY_EMBEDDING_CACHE:-$CACHE_DIR/e5-embeddings}"
BOT_VENV="$CACHE_DIR/venv-bot-$(hash_files bot/requirements.lock)"
API_VENV="$CACHE_DIR/venv-api-$(hash_files api/requirements.lock)"
BOT_PY="$BOT_VENV/bin/python"
API_PY="$API_VENV/bin/python"
