#!/bin/sh
# NOBA plugin (protocol: docs/plugins.md): size of one file, with a threshold.
# Configuration arrives on stdin as JSON and, for shell plugins, as
# NOBA_PLUGIN_<FIELD> environment variables (here NOBA_PLUGIN_PATH, NOBA_PLUGIN_WARN_MB).
case "$1" in
describe)
	cat <<'JSON'
{"name":"File size","version":"1.0.0","icon":"fa-file","description":"Watches the size of one file and flags it above a threshold.","interval":10,
 "config_schema":{"path":{"type":"string","required":true,"label":"File path"},
                  "warn_mb":{"type":"number","default":100,"min":0,"max":1000000,"label":"Warn above (MB)"}}}
JSON
	;;
collect)
	esc() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
	if [ ! -f "$NOBA_PLUGIN_PATH" ]; then
		printf '{"error":"%s is not a file"}\n' "$(esc "$NOBA_PLUGIN_PATH")"
		exit 0
	fi
	bytes=$(wc -c <"$NOBA_PLUGIN_PATH" | tr -d ' ')
	limit=$(awk -v m="${NOBA_PLUGIN_WARN_MB:-100}" 'BEGIN { printf "%d", m * 1048576 }')
	over=false
	[ "$bytes" -gt "$limit" ] && over=true
	printf '{"data":{"path":"%s","bytes":%s,"over_limit":%s}}\n' "$(esc "$NOBA_PLUGIN_PATH")" "$bytes" "$over"
	;;
*)
	echo "usage: $0 describe|collect" >&2
	exit 2
	;;
esac
