#!/bin/bash
# Mirror the models bucket (or one prefix of it) into the EFS model store. The model-sync
# CronJob in the platform namespace runs this file (aws-cli image) with the store's
# writable volume mounted; dev and prod read the same files through read-only volumes.
#
# `aws s3 sync` downloads each changed object to a temporary file beside its target and
# renames it into place, so a pod loading a model never reads half a file; with --delete
# it also removes files the bucket no longer has, so the store is exactly the bucket.
# A source that lists nothing is mirrored only while the store is empty too (a new stack
# before its first model is published: nothing to do, and not a failed Job that pages).
# While the store holds files it is refused and the store left as it is: an emptied bucket
# or a mistyped prefix would otherwise wipe the models prod serves. So is a prefix that
# lists nothing in a bucket that holds other keys: more likely a typo than "not yet".
#
# Environment:
#   MODELS_BUCKET   the models bucket
#   MODELS_PREFIX   the part of it to mirror ("" or a prefix ending in /)
#   MODELS_DIR      where the store is mounted
set -euo pipefail

: "${MODELS_BUCKET:?MODELS_BUCKET is not set}"
: "${MODELS_DIR:?MODELS_DIR is not set}"
prefix="${MODELS_PREFIX:-}"
source="s3://${MODELS_BUCKET}/${prefix}"

if [ ! -d "$MODELS_DIR" ] || [ ! -w "$MODELS_DIR" ]; then
  echo "model-sync: ${MODELS_DIR} is not a writable directory; is the store mounted?" >&2
  exit 1
fi

# Whether anything is stored under a prefix of the bucket ("" for all of it). A listing
# that fails (access denied, no such bucket, throttling) ends the script: called from `if`,
# set -e does not apply here, and a failure must not read as "nothing published".
lists_something() {
  local first
  first="$(aws s3api list-objects-v2 --bucket "$MODELS_BUCKET" --prefix "$1" \
    --max-items 1 --query 'Contents[0].Key' --output text)" || {
    echo "model-sync: cannot list s3://${MODELS_BUCKET}/$1 (see the error above);" \
      "the model store is left as it is" >&2
    exit 1
  }
  [ -n "$first" ] && [ "$first" != "None" ]
}

if ! lists_something "$prefix"; then
  # Bash itself, not find: the image is not ours to count on for more than the CLI.
  shopt -s nullglob dotglob
  held=("$MODELS_DIR"/*)
  shopt -u nullglob dotglob
  if [ "${#held[@]}" -gt 0 ]; then
    echo "model-sync: nothing under ${source} but the model store holds files;" \
      "refusing to mirror an empty source (it would delete them), the store is left as it is" >&2
    exit 1
  fi
  if [ -n "$prefix" ] && lists_something ""; then
    echo "model-sync: nothing under ${source} though s3://${MODELS_BUCKET}/ holds other keys;" \
      "is operations.modelSync.prefix right?" >&2
    exit 1
  fi
  echo "model-sync: no model published under ${source} yet and the model store is empty;" \
    "nothing to do"
  exit 0
fi

aws s3 sync "$source" "$MODELS_DIR" --delete --only-show-errors --no-progress
echo "model-sync: ${source} -> ${MODELS_DIR}"
