#!/bin/bash
# Restore one prod schema dump into a new scratch database and print its row counts: the
# restore runbook of the README ("Restoring a prod dump"), run as the break-glass restore
# role. The tests run this same file against moto's S3 and a real PostgreSQL.
#
#   scripts/restore-check.sh <backups bucket>                        the newest dump
#   scripts/restore-check.sh <backups bucket> <key>                  that dump
#   scripts/restore-check.sh <backups bucket> <key> <version id>     a deleted or older version
#
# Environment:
#   AWS_PROFILE        the restore role's profile (default pingvas-restore; empty: the
#                      credentials in the environment, from `aws sts assume-role`)
#   PGHOST, PGPORT, PGUSER, PGPASSWORD
#                      the scratch PostgreSQL (libpq's own variables); the user needs
#                      CREATEDB, nothing more: the dump's roles need not exist there
#   RESTORE_DATABASE   the database to create and restore into (default restore_check);
#                      it must not exist yet
#
# The restore role lists the bucket only under prod/ (its policy's s3:prefix condition), so
# every listing names that prefix; it uses the s3api calls only, one per IAM action.
set -euo pipefail

if [ "$#" -lt 1 ] || [ "$#" -gt 3 ]; then
  echo "usage: $0 <backups bucket> [<key> [<version id>]]" >&2
  exit 2
fi
bucket="$1"
key="${2:-}"
version="${3:-}"
database="${RESTORE_DATABASE:-restore_check}"
# Unset: the restore role's profile; set but empty: the credentials already exported.
if [ -z "${AWS_PROFILE+set}" ]; then
  export AWS_PROFILE=pingvas-restore
elif [ -z "$AWS_PROFILE" ]; then
  unset AWS_PROFILE
fi
prefix="prod/"

echo "restore-check: the dumps under s3://${bucket}/${prefix} (newest last):" >&2
# shellcheck disable=SC2016 # `[]` is a JMESPath literal (no listing), not a command
aws s3api list-object-versions --bucket "$bucket" --prefix "$prefix" \
  --query 'sort_by(Versions || `[]`, &LastModified)[].[LastModified, Key, VersionId, IsLatest]' \
  --output text >&2
if [ -z "$key" ]; then
  # shellcheck disable=SC2016 # as above
  key="$(aws s3api list-object-versions --bucket "$bucket" --prefix "$prefix" \
    --query 'sort_by(Versions[?IsLatest] || `[]`, &LastModified)[-1].Key' --output text)"
  if [ -z "$key" ] || [ "$key" = "None" ]; then
    echo "restore-check: no dump under s3://${bucket}/${prefix}" >&2
    exit 1
  fi
fi

# The dump is prod's data: it lives only as long as this script.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
archive="${scratch}/restore.dump"
version_args=()
if [ -n "$version" ]; then
  version_args=(--version-id "$version")
fi
aws s3api get-object --bucket "$bucket" --key "$key" "${version_args[@]}" "$archive" >/dev/null
echo "restore-check: s3://${bucket}/${key} ${version} downloaded" >&2

# pg_restore reads only archives of its own major or older; a pg_dump's SET statements only
# a server of its major or newer.
listing="$(pg_restore --list "$archive")"
dumped_by="$(sed -n 's/^;[[:space:]]*Dumped by pg_dump version: \([0-9]*\).*/\1/p' <<<"$listing")"
client="$(pg_restore --version | sed -n 's/^pg_restore (PostgreSQL) \([0-9]*\).*/\1/p')"
if [ -z "$dumped_by" ] || [ "$client" -lt "$dumped_by" ]; then
  echo "restore-check: the dump was made by pg_dump ${dumped_by:-?} and pg_restore is" \
    "${client}; install the PostgreSQL ${dumped_by:-?} client or newer" >&2
  exit 1
fi

createdb "$database"
server="$(psql --dbname="$database" --no-psqlrc --tuples-only --no-align \
  --command='SHOW server_version_num')"
if [ "$((server / 10000))" -lt "$dumped_by" ]; then
  dropdb "$database"
  echo "restore-check: the dump was made by pg_dump ${dumped_by} and the scratch server is" \
    "$((server / 10000)); use a PostgreSQL ${dumped_by} server or newer" >&2
  exit 1
fi

# Not the dump's owners and grants: its roles (the Aurora master user, prod_user) exist
# only on Aurora, and a scratch database needs none of them to be read.
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
  --dbname="$database" "$archive"
echo "restore-check: restored into ${database}; rows per table:" >&2
psql --dbname="$database" --no-psqlrc --tuples-only --no-align --field-separator=' ' \
  --set=ON_ERROR_STOP=1 <<'SQL'
SELECT format('SELECT %L, count(*) FROM %I.%I', schemaname || '.' || tablename, schemaname, tablename)
  FROM pg_catalog.pg_tables
 WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
 ORDER BY schemaname, tablename
\gexec
SQL
