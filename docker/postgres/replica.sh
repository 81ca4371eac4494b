#!/bin/sh
# The streaming replica of compose's profile "replica": on first start, a base
# backup of the primary (db) with -R, which writes primary_conninfo and
# standby.signal; then PostgreSQL as a hot standby, replaying the primary's WAL.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_basebackup -h db -U "$PRIMARY_USER" -D "$PGDATA" -R -X stream --checkpoint=fast; do
        echo "replica: waiting for the primary" >&2
        sleep 2
    done
    chmod 700 "$PGDATA"
fi
exec postgres
