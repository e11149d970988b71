#!/bin/bash
# Dump ONE schema of the shared database in pg_dump's custom format and check the archive
# before anything is uploaded. The init container of the prod backup Job runs this file
# (postgres image); the tests run the same file against a real PostgreSQL.
#
# Environment:
#   DATABASE_URL       libpq URL of the environment's own role (its db-credentials Secret)
#   DATABASE_URL_FILE  or a file holding it: the pod mounts the Secret's key as a file,
#                      so the password is in no container's environment
#   DB_SCHEMA          the schema to dump (prod_pingvas)
#   BACKUP_DIR         where "$DB_SCHEMA.dump" is written (an emptyDir shared with the upload)
set -euo pipefail
umask 077

if [[ -z "${DATABASE_URL:-}" && -n "${DATABASE_URL_FILE:-}" ]]; then
  DATABASE_URL="$(<"$DATABASE_URL_FILE")"
fi
: "${DATABASE_URL:?neither DATABASE_URL nor DATABASE_URL_FILE is set}"
: "${DB_SCHEMA:?DB_SCHEMA is not set}"
: "${BACKUP_DIR:?BACKUP_DIR is not set}"

dump="$BACKUP_DIR/$DB_SCHEMA.dump"
partial="$dump.partial"
# A failed or interrupted run leaves nothing the upload could mistake for a dump.
rm -f "$dump"
trap 'rm -f "$partial"' EXIT

# --schema limits the dump to one schema; --strict-names fails when it does not exist
# instead of writing an empty archive.
pg_dump --dbname="$DATABASE_URL" --schema="$DB_SCHEMA" --strict-names \
  --format=custom --file="$partial"

# The archive must be readable and hold the schema itself.
toc="$(pg_restore --list "$partial")"
if ! grep -Eq "^[0-9]+; [0-9]+ [0-9]+ SCHEMA - ${DB_SCHEMA} " <<<"$toc"; then
  echo "backup-dump: the archive holds no schema ${DB_SCHEMA}" >&2
  exit 1
fi

mv "$partial" "$dump"
entries="$(grep -c '^[0-9]' <<<"$toc")"
echo "backup-dump: ${DB_SCHEMA} dumped ($(wc -c <"$dump") bytes, ${entries} archive entries)"
