#!/bin/bash
# Upload the checked dump to the backups bucket under the environment's prefix, encrypted
# with the environment's KMS key. The main container of the prod backup Job runs this
# file (aws-cli image) after backup-dump.sh succeeded. Retention is the bucket's
# lifecycle rule: nothing here lists or deletes objects, and the role could not.
#
# Environment:
#   BACKUP_DIR, DB_SCHEMA  as for backup-dump.sh
#   BACKUP_BUCKET          the backups bucket
#   BACKUP_PREFIX          the key prefix ("prod")
#   BACKUP_NAME            the object name stem ("<database>-<schema>")
#   KMS_KEY_ARN            the customer-managed key for SSE-KMS
set -euo pipefail

: "${BACKUP_DIR:?BACKUP_DIR is not set}"
: "${DB_SCHEMA:?DB_SCHEMA is not set}"
: "${BACKUP_BUCKET:?BACKUP_BUCKET is not set}"
: "${BACKUP_PREFIX:?BACKUP_PREFIX is not set}"
: "${BACKUP_NAME:?BACKUP_NAME is not set}"
: "${KMS_KEY_ARN:?KMS_KEY_ARN is not set}"

dump="$BACKUP_DIR/$DB_SCHEMA.dump"
if [ ! -s "$dump" ]; then
  echo "backup-upload: no checked dump at ${dump}; nothing uploaded" >&2
  exit 1
fi

key="${BACKUP_PREFIX}/${BACKUP_NAME}-$(date -u +%Y%m%dT%H%M%SZ).dump"
# S3 verifies the SHA-256 of the bytes it stores against the one computed here.
aws s3 cp "$dump" "s3://${BACKUP_BUCKET}/${key}" \
  --sse aws:kms --sse-kms-key-id "$KMS_KEY_ARN" \
  --checksum-algorithm SHA256 --only-show-errors --no-progress
echo "backup-upload: s3://${BACKUP_BUCKET}/${key}"
