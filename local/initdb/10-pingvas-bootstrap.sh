#!/bin/bash
# The postgres image runs this once, on an empty data volume: it applies the same bootstrap
# the cluster's Job runs (pingvas_infra/tenancy/sql/, mounted by compose.yaml), per
# environment as the Job's bootstrap.sh does: the role and the environment's own database
# (database.sql, in POSTGRES_DB), then its schema (bootstrap.sql, in that database).
# LOCAL_DB_TARGETS (written to local/.env by `pingvas-infra local-env`) lists, per
# environment, the Job's target
# (role:schema:database:connection_limit:statement_timeout:idle_timeout) followed by
# :NAME_OF_THE_VARIABLE_HOLDING_ITS_PASSWORD.
set -euo pipefail

: "${BOOTSTRAP_SQL_DIR:=/pingvas/sql}"

for target in $LOCAL_DB_TARGETS; do
  IFS=: read -r role schema database connection_limit statement_timeout idle_timeout \
    password_variable <<<"$target"
  echo "bootstrap: database $database, schema $schema, role $role"
  # A plain password: PostgreSQL stores its SCRAM-SHA-256 verifier itself.
  psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 \
    --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" \
    --set=role="$role" --set=database="$database" --set=password="${!password_variable}" \
    --set=connection_limit="$connection_limit" --set=statement_timeout="$statement_timeout" \
    --set=idle_timeout="$idle_timeout" \
    --file="$BOOTSTRAP_SQL_DIR/database.sql"
  psql --no-psqlrc --quiet --single-transaction --set=ON_ERROR_STOP=1 \
    --username="$POSTGRES_USER" --dbname="$database" \
    --set=role="$role" --set=schema="$schema" \
    --file="$BOOTSTRAP_SQL_DIR/bootstrap.sql"
done
