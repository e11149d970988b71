#!/bin/sh
# The schema-bootstrap Job's main container: per environment, its role and database
# (database.sql, in the cluster's initial database), then its schema (bootstrap.sql, in
# the environment's database), as the Aurora master user. POSIX sh (busybox in the
# postgres alpine image).
#
# Environment:
#   PGHOST PGPORT PGDATABASE PGUSER PGSSLMODE   where, and as whom (read by libpq);
#                       PGDATABASE is the initial database
#   MASTER_SECRET_FILE  the RDS-managed master secret, JSON with "username" and "password",
#                       written by the init container
#   ROLE_PASSWORDS_DIR  one file per role, named after the role, holding its SCRAM verifier
#   BOOTSTRAP_DATABASE_SQL, BOOTSTRAP_SQL   database.sql and bootstrap.sql
#   BOOTSTRAP_TARGETS   space-separated
#                       role:schema:database:connection_limit:statement_timeout:idle_timeout
set -eu

# RDS master passwords are printable ASCII without '"', '/' or '@', so the only escapes JSON
# can hold in one are a backslash (\\) and, from some encoders, a slash (\/): take the
# "password" string and undo them.
PGPASSWORD=$(sed -n -E 's/.*"password"[[:space:]]*:[[:space:]]*"(([^"\\]|\\.)*)".*/\1/p' \
  "$MASTER_SECRET_FILE" | sed -E 's/\\(.)/\1/g')
if [ -z "$PGPASSWORD" ]; then
  echo "bootstrap: no password in $MASTER_SECRET_FILE" >&2
  exit 1
fi
export PGPASSWORD

for target in $BOOTSTRAP_TARGETS; do
  old_ifs=$IFS
  IFS=:
  # shellcheck disable=SC2086 # split on ':' on purpose
  set -- $target
  IFS=$old_ifs
  role=$1 schema=$2 database=$3
  echo "bootstrap: database $database, schema $schema, role $role"
  psql --no-psqlrc --quiet --set ON_ERROR_STOP=1 \
    --set role="$role" --set database="$database" \
    --set password="$(cat "$ROLE_PASSWORDS_DIR/$role")" \
    --set connection_limit="$4" --set statement_timeout="$5" --set idle_timeout="$6" \
    --file "$BOOTSTRAP_DATABASE_SQL"
  psql --no-psqlrc --quiet --single-transaction --set ON_ERROR_STOP=1 \
    --dbname "$database" --set role="$role" --set schema="$schema" \
    --file "$BOOTSTRAP_SQL"
done
echo "bootstrap: done"
