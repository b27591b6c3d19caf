# FreeRADIUS 3.2 for the Docker stack: Debian 12's packages, i.e. exactly the
# server (3.2.1) and rlm_sql_postgresql that tests/run runs the tests against.
# The configuration is not copied into the image: docker-compose.yml mounts the
# repository's tests/freeradius/raddb read-only at /etc/isp-raddb, and the entry
# point copies it to a writable directory (FreeRADIUS writes into log/ and
# refuses config files writable by others).
FROM debian:bookworm-slim

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        freeradius freeradius-postgresql freeradius-utils postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o freerad -g freerad -m 0750 /var/lib/isp-freeradius
COPY freeradius-entrypoint.sh /usr/local/bin/isp-freeradius
RUN chmod 0755 /usr/local/bin/isp-freeradius

# Unprivileged: the ports are above 1024 and the config drops no privileges.
USER freerad
EXPOSE 1812/udp 1813/udp
ENTRYPOINT ["/usr/local/bin/isp-freeradius"]
