#!/bin/sh
# Run once by the postgres image when the primary's volume is first created
# (/docker-entrypoint-initdb.d): lets the compose network's streaming replica
# (profile "replica") connect for replication with the database password.
# For a volume created before this file existed, append the same line by hand
# and reload: docker compose exec db sh /docker-entrypoint-initdb.d/allow-replication.sh
set -eu
line="host replication all all scram-sha-256"
grep -qxF "$line" "$PGDATA/pg_hba.conf" || echo "$line" >> "$PGDATA/pg_hba.conf"
