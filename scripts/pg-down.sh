#!/usr/bin/env bash
# Stop the PostgreSQL server scripts/pg-up.sh started and remove its directory.
# Usage: scripts/pg-down.sh [DIR] (default $NOBA_PG_DIR).
set -uo pipefail
T=${1:-${NOBA_PG_DIR:-}}
case "$T" in /tmp/pg-test.*) ;; *) echo "pg-down: not a pg-up directory: '$T'" >&2; exit 1 ;; esac
[ -d "$T" ] || exit 0
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ "$(id -u)" = 0 ]; then
  runuser -u postgres -- "$BIN/pg_ctl" -D "$T/data" -m immediate stop >/dev/null 2>&1
else
  "$BIN/pg_ctl" -D "$T/data" -m immediate stop >/dev/null 2>&1
fi
rm -rf "$T"
exit 0
