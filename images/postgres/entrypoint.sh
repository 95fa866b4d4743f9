#!/bin/sh
# Start PostgreSQL for the stack: a cluster in $PGDATA (created on the first start), the
# roles and databases of hub, grader and site (created when missing; their password set
# from STUDIO_POSTGRES_PASSWORD at every start), then the server on 127.0.0.1:$PGPORT.
# The password reaches psql through its environment (\getenv), never a command line.
set -eu
: "${STUDIO_POSTGRES_PASSWORD:?set STUDIO_POSTGRES_PASSWORD (./studio up generates it into data/studio.env)}"
major="$(basename "$(readlink -f /usr/lib/postgresql/current)")"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "postgres-entrypoint: creating the cluster in $PGDATA (PostgreSQL $major)"
    initdb --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 >/dev/null
elif [ "$(cat "$PGDATA/PG_VERSION")" != "$major" ]; then
    echo "postgres-entrypoint: the data in the volume is PostgreSQL $(cat "$PGDATA/PG_VERSION")'s; this image runs PostgreSQL $major, which cannot open it. Run the image the data was made with, dump it (pg_dump), and restore the dump into a fresh volume (docs/operator-guide.md)." >&2
    exit 1
fi
# Who may connect, rewritten at every start: the superuser only as the postgres OS user on
# the unix socket; each studio role over loopback TCP with its password, to its own database.
cat > "$PGDATA/pg_hba.conf" <<HBA
local  all       postgres                peer
host   sameuser  all       127.0.0.1/32  scram-sha-256
host   sameuser  all       ::1/128       scram-sha-256
HBA
# Set-up on the socket alone: nothing reaches the server over TCP (nor does the health
# check pass) before the roles and databases exist.
pg_ctl -w -s -o "-c listen_addresses='' -p $PGPORT" start >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres <<'SQL'
\getenv pw STUDIO_POSTGRES_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', r) FROM unnest(ARRAY['studio_hub', 'studio_grader', 'studio_cms']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
ALTER ROLE studio_hub PASSWORD :'pw';
ALTER ROLE studio_grader PASSWORD :'pw';
ALTER ROLE studio_cms PASSWORD :'pw';
SELECT format('CREATE DATABASE %I OWNER %I', d, d) FROM unnest(ARRAY['studio_hub', 'studio_grader', 'studio_cms']) AS d
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = d) \gexec
REVOKE ALL ON DATABASE studio_hub, studio_grader, studio_cms FROM PUBLIC;
SQL
pg_ctl -w -s -m fast stop
unset STUDIO_POSTGRES_PASSWORD
exec postgres -c listen_addresses=127.0.0.1 -c jit=off -p "$PGPORT"
