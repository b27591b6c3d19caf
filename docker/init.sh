#!/bin/bash
# Entry point of the odoo service: create the demo database on the first start
# (idempotent), then serve it.
#
# Environment (see docker-compose.yml):
#   DB_HOST, DB_PORT, DB_USER, DB_PASSWORD  PostgreSQL connection
#   ISP_DB_NAME   database to create and serve (default isp_demo)
#   ISP_ADDONS    comma-separated add-ons to install (default isp_billing)
# Arguments are passed to Odoo when serving.
set -euo pipefail

: "${DB_HOST:=db}" "${DB_PORT:=5432}" "${DB_USER:=odoo}" "${DB_PASSWORD:=odoo}"
: "${ISP_DB_NAME:=isp_demo}" "${ISP_ADDONS:=isp_billing}"
export PGHOST="$DB_HOST" PGPORT="$DB_PORT" PGUSER="$DB_USER" PGPASSWORD="$DB_PASSWORD"

odoo_db_args=(
    --config="${ODOO_RC:-/etc/odoo/isp.conf}"
    --db_host="$DB_HOST" --db_port="$DB_PORT"
    --db_user="$DB_USER" --db_password="$DB_PASSWORD"
    --database="$ISP_DB_NAME"
)

echo "isp-init: waiting for PostgreSQL at $DB_HOST:$DB_PORT"
for _ in $(seq 1 60); do
    pg_isready -q -d postgres && break
    sleep 1
done
pg_isready -q -d postgres || { echo "isp-init: PostgreSQL is not ready" >&2; exit 1; }

# How many of the wanted add-ons are installed (0 when the database or its
# tables do not exist yet). Counting them, rather than testing that the
# database exists, also completes a first start that was interrupted and
# installs add-ons added to ISP_ADDONS later.
installed_count() {
    psql -XAtq -v ON_ERROR_STOP=1 -d "$ISP_DB_NAME" -v addons="$ISP_ADDONS" \
        2>/dev/null <<'SQL' || echo 0
SELECT count(*) FROM ir_module_module
 WHERE state = 'installed' AND name = ANY(string_to_array(:'addons', ','));
SQL
}

IFS=, read -ra wanted <<< "$ISP_ADDONS"
installed="$(installed_count)"
if [ "${installed:-0}" -lt "${#wanted[@]}" ]; then
    echo "isp-init: installing $ISP_ADDONS with demo data into $ISP_DB_NAME"
    # Odoo creates the database if it is missing; demo data is loaded unless
    # --without-demo is given.
    odoo "${odoo_db_args[@]}" --init="$ISP_ADDONS" --stop-after-init
else
    echo "isp-init: $ISP_DB_NAME already has $ISP_ADDONS"
fi

echo "isp-init: serving $ISP_DB_NAME on port 8069 (login admin, password admin)"
# --database alone exposes that one database. No --db-filter: with one, Odoo
# lists the databases on a new PostgreSQL connection for every request
# without a session, e.g. every M-PESA callback (the callbacks' benchmark in
# docs/benchmarks.md: 42 instead of 70 per second).
exec odoo "${odoo_db_args[@]}" "$@"
