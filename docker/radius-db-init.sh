#!/bin/bash
# The RADIUS database of the Docker stack: `radius`, with FreeRADIUS's own
# PostgreSQL schema (unmodified; the repository's copy is mounted at
# /radius/schema.sql) and a login role `radius` with the GRANTs of Debian's
# mods-config/sql/main/postgresql/setup.sql (read the user tables and nas,
# write radacct and radpostauth), which FreeRADIUS uses. Odoo (isp_radius)
# writes the user tables as the owner (POSTGRES_USER).
#
# The postgres image runs it once, when the volume is initialised
# (/docker-entrypoint-initdb.d). It is idempotent; for an existing volume:
#   docker compose -f docker/docker-compose.yml exec db \
#       bash /docker-entrypoint-initdb.d/20-radius-db.sh
set -euo pipefail

: "${RADIUS_DB:=radius}" "${RADIUS_DB_USER:=radius}" "${RADIUS_DB_PASSWORD:=radpass}"
: "${RADIUS_SCHEMA:=/radius/schema.sql}"
psql=(psql -v ON_ERROR_STOP=1 -XAtq --username "${POSTGRES_USER:-postgres}")

"${psql[@]}" -d postgres -v role="$RADIUS_DB_USER" -v pw="$RADIUS_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'pw')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role')
\gexec
SQL
"${psql[@]}" -d postgres -v db="$RADIUS_DB" <<'SQL'
SELECT format('CREATE DATABASE %I', :'db')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db')
\gexec
SQL
if [ "$("${psql[@]}" -d "$RADIUS_DB" -c "SELECT to_regclass('radcheck') IS NULL")" = t ]; then
    "${psql[@]}" -d "$RADIUS_DB" -f "$RADIUS_SCHEMA"
fi
"${psql[@]}" -d "$RADIUS_DB" -v role="$RADIUS_DB_USER" <<'SQL'
GRANT SELECT ON radcheck, radreply, radusergroup, radgroupcheck, radgroupreply, nas
   TO :"role";
GRANT SELECT, INSERT, UPDATE ON radacct, radpostauth, nasreload TO :"role";
GRANT USAGE, SELECT ON SEQUENCE radacct_radacctid_seq, radpostauth_id_seq TO :"role";
SQL
echo "radius-db-init: database $RADIUS_DB ready for role $RADIUS_DB_USER"
