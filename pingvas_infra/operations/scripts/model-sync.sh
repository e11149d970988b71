#!/bin/bash
# Mirror the models bucket (or one prefix of it) into the EFS model store. The model-sync
# CronJob in the platform namespace runs this file (aws-cli image) with the store's
# writable volume mounted; dev and prod read the same files through read-only volumes.
#
# `aws s3 sync` downloads each changed object to a temporary file beside its target and
# renames it into place, so a pod loading a model never reads half a file; with --delete
# it also removes files the bucket no longer has, so the store is exactly the bucket.
# A bucket (or prefix) that lists nothing is refused rather than mirrored: an emptied or
# mistyped source would otherwise wipe the models prod serves.
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

first="$(aws s3api list-objects-v2 --bucket "$MODELS_BUCKET" --prefix "$prefix" \
  --max-items 1 --query 'Contents[0].Key' --output text)"
if [ -z "$first" ] || [ "$first" = "None" ]; then
  echo "model-sync: nothing under ${source}; the model store is left as it is" >&2
  exit 1
fi

aws s3 sync "$source" "$MODELS_DIR" --delete --only-show-errors --no-progress
echo "model-sync: ${source} -> ${MODELS_DIR}"
