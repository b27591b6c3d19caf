#!/bin/bash
# Entry point of the freeradius service: copy the mounted configuration,
# listen on all addresses of the container, wait for the RADIUS database, then
# run FreeRADIUS in the foreground (exec: it gets the container's signals).
#
# Environment (see docker-compose.yml), all required: an unset $ENV{X} is ""
# in FreeRADIUS, and an empty port means 1812/1813.
#   FR_AUTH_PORT, FR_ACCT_PORT  UDP ports
#   FR_SECRET                   secret of the client 127.0.0.1 (health check);
#                               the NAS come from the `nas` table
#   FR_DB                       libpq conninfo of the RADIUS database
# Optional: ISP_RADDB_SOURCE (default /etc/isp-raddb), ISP_RADDB_DIR (the copy,
# default /var/lib/isp-freeradius/raddb), FR_LISTEN_ADDR (default *, all IPv4
# addresses), FR_NAS_ADDR (one more client with FR_SECRET: the stack's NAS
# simulator, a client before Odoo writes its NAS to the `nas` table).
# Arguments are passed to freeradius (e.g. -X for a debug trace).
set -euo pipefail

for var in FR_AUTH_PORT FR_ACCT_PORT FR_SECRET FR_DB; do
    if [ -z "${!var:-}" ]; then
        echo "isp-freeradius: $var is not set" >&2
        exit 2
    fi
done
source_dir="${ISP_RADDB_SOURCE:-/etc/isp-raddb}"
raddb="${ISP_RADDB_DIR:-/var/lib/isp-freeradius/raddb}"

rm -rf "$raddb"
cp -r "$source_dir" "$raddb"
find "$raddb" -type d -exec chmod 0750 {} +
find "$raddb" -type f -exec chmod 0640 {} +
# The tests listen on 127.0.0.1 only; in a container that is unreachable.
sed -i "s/^\(\s*ipaddr = \)127\.0\.0\.1$/\1${FR_LISTEN_ADDR:-*}/" \
    "$raddb/sites-enabled/default"
if [ -n "${FR_NAS_ADDR:-}" ]; then
    # The tests' client 127.0.0.1 (clients.conf), at the NAS simulator's address.
    cat >> "$raddb/clients.conf" <<EOF

client nas-simulator {
	ipaddr = ${FR_NAS_ADDR}
	secret = "\$ENV{FR_SECRET}"
	require_message_authenticator = no
	nas_type = other
}
EOF
fi

# FreeRADIUS exits at once if its database is missing (rlm_sql), so wait for it.
echo "isp-freeradius: waiting for the RADIUS database"
for _ in $(seq 1 60); do
    psql "$FR_DB" -XAtq -c "SELECT 1 FROM radcheck LIMIT 1" >/dev/null 2>&1 && break
    sleep 1
done
if ! psql "$FR_DB" -XAtq -c "SELECT 1 FROM radcheck LIMIT 1" >/dev/null; then
    echo "isp-freeradius: no RADIUS database (see docker/README.md)" >&2
    exit 1
fi

echo "isp-freeradius: FreeRADIUS on UDP $FR_AUTH_PORT/$FR_ACCT_PORT"
exec freeradius -d "$raddb" -f -l stdout "$@"
