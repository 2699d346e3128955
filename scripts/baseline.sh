#!/usr/bin/env bash
# Prepare an earlier version of the assistant ("old", any git ref) so that
# `make bench` and `make eval` can measure it side by side with this one: a
# detached git worktree under var/baseline/<ref>, set up by its own
# scripts/setup.sh with its own DATA_DIR. Virtual environments and trained
# models come from the shared cache, keyed by their inputs, so the first run of
# a baseline may train for a long time (today's pipeline, a712de4, about 40
# minutes on two cores) and later runs reuse the cached model.
# Prints the worktree's path on stdout.
# Usage: scripts/baseline.sh [REF]   (default: $BASELINE_REF, else a712de4)
source "$(dirname "$0")/common.sh"

ref="${1:-${BASELINE_REF:-a712de4}}"
commit="$(git -C "$REPO" rev-parse --verify --quiet "$ref^{commit}")" || die "unknown git ref '$ref'"
dir="$REPO/var/baseline/${ref//[^A-Za-z0-9._-]/_}"

if [ -e "$dir/.git" ] && [ "$(git -C "$dir" rev-parse HEAD 2>/dev/null)" = "$commit" ]; then
  say "Baseline $ref: reusing the worktree $dir"
else
  if [ -e "$dir" ]; then
    say "Baseline $ref: the worktree $dir is at another commit; making it afresh"
    git -C "$REPO" worktree remove --force "$dir" 2>/dev/null || rm -rf "$dir"
  fi
  git -C "$REPO" worktree prune
  mkdir -p "$(dirname "$dir")"
  say "Baseline $ref: adding a worktree at $dir"
  git -C "$REPO" worktree add --detach "$dir" "$commit" >&2
fi

# Its own settings: nothing of this checkout's environment may leak in.
unset API_PY BOT_PY API_VENV BOT_VENV SPACY_DIR
export DATA_DIR="$dir/var"

"$dir/scripts/setup.sh" --no-train >&2

# The model's fingerprint as the baseline's own train.sh computes it: when it
# matches a cached model (e.g. one trained in another checkout of the same
# commit), nothing is trained.
fingerprint_line="$(grep -m1 '^fingerprint=' "$dir/scripts/train.sh" || true)"
fingerprint=""
if [ -n "$fingerprint_line" ]; then
  fingerprint="$(cd "$dir" && bash -c "source scripts/common.sh >/dev/null; $fingerprint_line; echo \"\$fingerprint\"")"
fi
mkdir -p "$DATA_DIR/logs"
if [ -n "$fingerprint" ] && [ -f "$CACHE_DIR/models/$fingerprint.tar.gz" ]; then
  say "Baseline $ref: its model $fingerprint is cached"
  "$dir/scripts/train.sh" >&2
else
  say "Baseline $ref: training its model ${fingerprint:+$fingerprint }(first time only: it may take long, e.g. 40 minutes for a712de4; cached afterwards)"
  started=$SECONDS
  "$dir/scripts/train.sh" 2>&1 | tee "$DATA_DIR/logs/baseline-train.log" >&2
  fingerprint="$(cat "$DATA_DIR/models/current.fingerprint")"
  # Kept next to the cached model, so that every later run can report it
  # (not when another checkout trained it meanwhile and this one only waited).
  if ! grep -q "up to date" "$DATA_DIR/logs/baseline-train.log"; then
    echo "$((SECONDS - started))" > "$CACHE_DIR/models/$fingerprint.train-seconds"
  fi
fi
[ -f "$DATA_DIR/models/current.tar.gz" ] || die "the baseline $ref has no trained model"
echo "$dir"
