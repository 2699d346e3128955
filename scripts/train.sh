#!/usr/bin/env bash
# Train the Rasa model only when its inputs changed. Models are cached by a
# fingerprint of everything that goes into them; the current one is copied to
# DATA_DIR/models/ where the bot loads it from.
source "$(dirname "$0")/common.sh"

fingerprint="$(hash_files bot/config.yml bot/domain bot/data bot/components knowledge/safety bot/requirements.lock)"
model="$CACHE_DIR/models/$fingerprint.tar.gz"
mkdir -p "$CACHE_DIR/models" "$DATA_DIR/models"
# Rasa caches trained components; unchanged parts of the pipeline are reused.
export RASA_CACHE_DIRECTORY="$CACHE_DIR/rasa-cache"

# One training at a time on this machine: a second caller waits and reuses it.
# A caller whose model is already cached does not wait for someone else's training.
exec 9>"$CACHE_DIR/models/.train.lock"
[ -f "$model" ] || flock 9
if [ ! -f "$model" ]; then
  say "Training the model (inputs changed; about a minute, a few more the first time sentence embeddings are cached)"
  partial="$fingerprint-partial-$$"
  started=$SECONDS
  # Live progress: each component as it starts and ends, the classifier's own
  # phases, with the elapsed time. Everything goes to train.log in full.
  mkdir -p "$DATA_DIR/logs"
  (cd "$REPO/bot" && PYTHONUNBUFFERED=1 "$BOT_VENV/bin/rasa" train --config config.yml --domain domain --data data \
      --out "$CACHE_DIR/models" --fixed-model-name "$partial" 2>&1 \
    | tee "$DATA_DIR/logs/train.log" \
    | sed -u 's/\r/\n/g' \
    | grep --line-buffered -E "Starting to train component|Finished training component|classifier:|detector:|Your Rasa model|rror" \
    | while IFS= read -r line; do
        line="${line#*rasa.engine.training.hooks  - }"
        printf '  [%3ds] %s\n' "$((SECONDS - started))" "$line" >&2
      done) || true
  [ -f "$CACHE_DIR/models/$partial.tar.gz" ] || die "training failed; run 'cd bot && rasa train' for details"
  mv "$CACHE_DIR/models/$partial.tar.gz" "$model"
  # How long the full training took, next to the model: `make bench` reports it.
  echo "$((SECONDS - started))" > "$CACHE_DIR/models/$fingerprint.train-seconds"
else
  say "The model is up to date ($fingerprint)"
fi
flock -u 9
if ! cmp -s "$model" "$DATA_DIR/models/current.tar.gz" 2>/dev/null; then
  cp "$model" "$DATA_DIR/models/current.tar.gz.tmp" && mv "$DATA_DIR/models/current.tar.gz.tmp" "$DATA_DIR/models/current.tar.gz"
fi
echo "$fingerprint" > "$DATA_DIR/models/current.fingerprint"
