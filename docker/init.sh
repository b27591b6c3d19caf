#!/bin/bash
# Entry point of the odoo service: the quick start's demo on the stack's
# services, then Odoo serving it.
#
# The database is made by the same scripts as tests/serve on a machine:
# `tests/serve --init-only` (a Kenyan company, l10n_ke, every add-on of the
# repository with demo data, then tests/demo_builder.py: languages, taxes,
# portal logins, history, and M-PESA, SMS and isp_radius pointed at the
# stack's Daraja and SMS gateway simulators, FreeRADIUS and NAS simulator,
# with the subscribers' traffic through them). tests/serve starts none of the
# services here: the stack runs them (docker-compose.yml), and the URLs and
# ports below say where. An existing database is not rebuilt: it is only
# pointed at the services again (`--no-init`, the NAS simulator's sessions
# logged in again). On a database built by this start, once Odoo answers,
# tests/demo_builder.py makes the demo's paybill payments
# (demo_builder.LIVE_PAYMENTS), as tests/serve does.
#
# Environment (see docker-compose.yml):
#   DB_HOST, DB_PORT, DB_USER, DB_PASSWORD  PostgreSQL connection
#   ISP_DB_NAME        database to create and serve (default isp_demo)
#   ISP_ADDONS         add-ons to install (unset: every add-on of the
#                      repository, as tests/serve)
#   ISP_BASE_URL       the URL subscribers open (web.base.url)
#   ISP_CALLBACK_URL   Odoo's URL for the Daraja simulator's callbacks
#   ISP_DARAJA_URL, ISP_SMS_URL        the simulators
#   ISP_RADIUS_DSN     FreeRADIUS's database (libpq), as Odoo writes it
#   ISP_NAS_URL, ISP_NAS_IP, ISP_NAS_COA_PORT, ISP_RADIUS_SECRET
#                      the NAS simulator: control API, address, CoA port,
#                      shared secret (FreeRADIUS's FR_SECRET)
# Arguments are passed to Odoo when serving.
set -euo pipefail

: "${DB_HOST:=db}" "${DB_PORT:=5432}" "${DB_USER:=odoo}" "${DB_PASSWORD:=odoo}"
: "${ISP_DB_NAME:=isp_demo}" "${ISP_REPO:=/mnt/extra-addons}"
# The stack's services (docker-compose.yml sets the same values).
: "${ISP_BASE_URL:=http://localhost:8069}" "${ISP_CALLBACK_URL:=http://odoo:8069}"
: "${ISP_DARAJA_URL:=http://daraja:8070}" "${ISP_SMS_URL:=http://sms:8071}"
: "${ISP_RADIUS_DSN:=host=db port=5432 dbname=radius user=odoo password=odoo}"
: "${ISP_NAS_URL:=http://nas:8075}" "${ISP_NAS_IP:=172.30.57.10}"
: "${ISP_NAS_COA_PORT:=3799}" "${ISP_RADIUS_SECRET:=demo-nas-secret}"
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

exists="$(psql -XAtq -d postgres -v db="$ISP_DB_NAME" <<'SQL'
SELECT count(*) FROM pg_database WHERE datname = :'db';
SQL
)"
serve_args=(
    --init-only --db="$ISP_DB_NAME" --port=8069
    --base-url="$ISP_BASE_URL" --callback-url="$ISP_CALLBACK_URL"
    --daraja-url="$ISP_DARAJA_URL" --sms-url="$ISP_SMS_URL"
    --radius-dsn="$ISP_RADIUS_DSN" --nas-url="$ISP_NAS_URL"
    --nas-ip="$ISP_NAS_IP" --nas-coa-port="$ISP_NAS_COA_PORT"
    --radius-secret="$ISP_RADIUS_SECRET"
)
if [ "$exists" = 1 ]; then
    echo "isp-init: $ISP_DB_NAME exists: pointing it at the stack's services"
    python3 "$ISP_REPO/tests/serve" --no-init "${serve_args[@]}"
else
    echo "isp-init: building the demo database $ISP_DB_NAME (a few minutes)"
    python3 "$ISP_REPO/tests/serve" "${serve_args[@]}"
    python3 "$ISP_REPO/tests/demo_builder.py" --daraja-url="$ISP_DARAJA_URL" \
        --live-payments=http://localhost:8069 &
fi

echo "isp-init: serving $ISP_DB_NAME on port 8069 (login admin, password admin)"
# --database alone exposes that one database. No --db-filter: with one, Odoo
# lists the databases on a new PostgreSQL connection for every request
# without a session, e.g. every M-PESA callback (the callbacks' benchmark in
# docs/benchmarks.md: 42 instead of 70 per second).
exec odoo "${odoo_db_args[@]}" "$@"
