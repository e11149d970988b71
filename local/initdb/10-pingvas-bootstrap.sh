#!/bin/bash
# The postgres image runs this once, on an empty data volume: it applies the same schema
# bootstrap the cluster's Job runs (pingvas_infra/tenancy/sql/bootstrap.sql, mounted by
# compose.yaml), once per environment as the Job's bootstrap.sh does. LOCAL_DB_TARGETS
# (written to local/.env by `pingvas-infra local-env`) lists, per environment,
# role:schema:NAME_OF_THE_VARIABLE_HOLDING_ITS_PASSWORD.
set -euo pipefail

: "${BOOTSTRAP_SQL:=/pingvas/sql/bootstrap.sql}"

for target in $LOCAL_DB_TARGETS; do
  IFS=: read -r role schema password_variable <<<"$target"
  echo "bootstrap: schema $schema for role $role"
  # A plain password: PostgreSQL stores its SCRAM-SHA-256 verifier itself.
  psql --no-psqlrc --quiet --single-transaction --set=ON_ERROR_STOP=1 \
    --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" \
    --set=role="$role" --set=schema="$schema" --set=password="${!password_variable}" \
    --file="$BOOTSTRAP_SQL"
done
