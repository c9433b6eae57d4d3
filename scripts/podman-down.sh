#!/usr/bin/env bash
# Stop the Podman service scripts/podman-up.sh started and remove what it
# left: containers, networks, stray conmon processes, mounts and its directory.
# Usage: scripts/podman-down.sh [DIR] (default $NOBA_PODMAN_DIR).
set -uo pipefail
T=${1:-${NOBA_PODMAN_DIR:-}}
case "$T" in /tmp/podman-test.*) ;; *) echo "podman-down: not a podman-up directory: '$T'" >&2; exit 1 ;; esac
[ -d "$T" ] || exit 0
export CONTAINERS_CONF=$T/containers.conf CONTAINERS_STORAGE_CONF=$T/storage.conf XDG_RUNTIME_DIR=$T/run
export DOCKER_HOST=unix://$T/podman.sock
podman rm -af -t 0 >/dev/null 2>&1
podman network prune -f >/dev/null 2>&1
[ -f "$T/service.pid" ] && kill "$(cat "$T/service.pid")" 2>/dev/null
sleep 0.5
for p in /proc/[0-9]*; do
  grep -qaF -- "$T/" "$p/cmdline" 2>/dev/null && kill "${p#/proc/}" 2>/dev/null
done
grep -o " $T[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
rm -rf "$T"
exit 0
