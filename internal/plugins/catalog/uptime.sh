#!/bin/sh
# NOBA plugin (protocol: docs/plugins.md): seconds since boot, from /proc/uptime.
case "$1" in
describe)
	cat <<'JSON'
{"name":"Uptime","version":"1.0.0","icon":"fa-clock","description":"Seconds since the host booted (from /proc/uptime).","interval":30}
JSON
	;;
collect)
	read -r up _ </proc/uptime || { echo '{"error":"cannot read /proc/uptime"}'; exit 0; }
	printf '{"data":{"uptime_seconds":%s}}\n' "${up%.*}"
	;;
*)
	echo "usage: $0 describe|collect" >&2
	exit 2
	;;
esac
