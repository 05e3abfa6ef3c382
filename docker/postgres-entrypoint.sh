#!/bin/sh
# First start: create the cluster, the `tapir` database and pgSphere; then run PostgreSQL
# listening on the compose network with password authentication.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb -U postgres -A scram-sha-256 --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    pg_ctl -w start -o "-c listen_addresses=''"
    PGPASSWORD="$POSTGRES_PASSWORD" createdb -U postgres tapir
    PGPASSWORD="$POSTGRES_PASSWORD" psql -U postgres -d tapir -c 'CREATE EXTENSION pg_sphere'
    pg_ctl -w stop
fi
exec postgres -c listen_addresses='*'
