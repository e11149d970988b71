#!/bin/sh
# The schema-bootstrap Job's main container: run bootstrap.sql once per environment as the
# Aurora master user. POSIX sh (busybox in the postgres alpine image).
#
# Environment:
#   PGHOST PGPORT PGDATABASE PGUSER PGSSLMODE   where, and as whom (read by libpq)
#   MASTER_SECRET_FILE  the RDS-managed master secret, JSON with "username" and "password",
#                       written by the init container
#   ROLE_PASSWORDS_DIR  one file per role, named after the role, holding its SCRAM verifier
#   BOOTSTRAP_SQL       bootstrap.sql
#   BOOTSTRAP_TARGETS   space-separated role:schema pairs, e.g. "dev_user:dev_pingvas"
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
  role=${target%%:*}
  schema=${target#*:}
  echo "bootstrap: schema $schema for role $role"
  psql --no-psqlrc --quiet --single-transaction --set ON_ERROR_STOP=1 \
    --set role="$role" --set schema="$schema" \
    --set password="$(cat "$ROLE_PASSWORDS_DIR/$role")" \
    --file "$BOOTSTRAP_SQL"
done
echo "bootstrap: done"
