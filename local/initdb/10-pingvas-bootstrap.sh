#!/bin/bash
# The postgres image runs this once, on an empty data volume: it applies the same schema
# bootstrap the cluster's Job runs (pingvas_infra/tenancy/sql/bootstrap.sql, mounted by
# compose.yaml), with the local role passwords from local/.env as psql variables.
set -euo pipefail

psql --set=ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" \
  --set=dev_password="$LOCAL_DEV_DB_PASSWORD" \
  --set=prod_password="$LOCAL_PROD_DB_PASSWORD" \
  --file=/pingvas/sql/bootstrap.sql
