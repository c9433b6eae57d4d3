#!/usr/bin/env bash
# Start a throwaway PostgreSQL server (Debian's postgresql binaries) on
# loopback for the PostgreSQL store tests and the replica tests. Prints the
# exports to use: eval "$(scripts/pg-up.sh)" sets NOBA_TEST_PG_URL (a
# superuser URL to the "postgres" database; tests create their own databases)
# and NOBA_PG_DIR. Stop it with scripts/pg-down.sh DIR.
set -euo pipefail
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$BIN" ] && [ -x "$BIN/initdb" ] || { echo "pg-up: postgresql is not installed" >&2; exit 1; }
T=$(mktemp -d /tmp/pg-test.XXXXXX)
RUN=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$T"
  RUN=(runuser -u postgres --)
fi
PORT=${NOBA_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
"${RUN[@]}" "$BIN/initdb" -D "$T/data" -U noba --auth=trust -E UTF8 --no-locale >"$T/initdb.log" 2>&1 \
  || { echo "pg-up: initdb failed (see $T/initdb.log)" >&2; exit 1; }
cat >>"$T/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$T'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
CONF
"${RUN[@]}" "$BIN/pg_ctl" -D "$T/data" -l "$T/server.log" -w -t 30 start >/dev/null \
  || { echo "pg-up: server did not start (see $T/server.log)" >&2; exit 1; }
echo "export NOBA_TEST_PG_URL='postgres://noba@127.0.0.1:$PORT/postgres?sslmode=disable' NOBA_PG_DIR='$T'"
