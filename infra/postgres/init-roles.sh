#!/usr/bin/env bash
# /docker-entrypoint-initdb.d hook of the postgres image (runs once, on an empty volume, as
# POSTGRES_USER): creates the owner and app roles from init-roles.sql.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_role="${ADFACTORY_DB_OWNER:-adfactory_owner}" -v owner_password="$ADFACTORY_DB_OWNER_PASSWORD" \
  -v app_role="${ADFACTORY_DB_APP:-adfactory_app}" -v app_password="$ADFACTORY_DB_APP_PASSWORD" \
  -v dbname="$POSTGRES_DB" -f /etc/adfactory/init-roles.sql
