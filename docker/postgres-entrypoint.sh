#!/bin/sh
# First start: create the cluster, the `tapir` database and pgSphere; then run PostgreSQL
# listening on the compose network with password authentication.
#
# Outside the image (the test suite runs this script against the machine's PostgreSQL), three
# variables move it off the image's fixed places: PGPORT (PostgreSQL's own), SOCKET_DIR
# (default /var/run/postgresql) and LISTEN_ADDRESSES (default '*').
set -eu
socket_dir="${SOCKET_DIR:-/var/run/postgresql}"
listen="${LISTEN_ADDRESSES:-*}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb -U postgres -A scram-sha-256 --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    pg_ctl -w start -o "-c listen_addresses='' -k '$socket_dir'"
    PGPASSWORD="$POSTGRES_PASSWORD" createdb -h "$socket_dir" -U postgres tapir
    PGPASSWORD="$POSTGRES_PASSWORD" psql -h "$socket_dir" -U postgres -d tapir -v ON_ERROR_STOP=1 \
        -c 'CREATE EXTENSION pg_sphere'
    pg_ctl -w stop
fi
exec postgres -c listen_addresses="$listen" -k "$socket_dir"
