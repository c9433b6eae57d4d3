#!/usr/bin/env bash
# Start a throwaway Podman service that serves the Docker Engine API on a unix
# socket, with an offline busybox image (local/busybox:test), for the
# container tests (recipe: research/container-engine.md). Prints the exports
# to use: eval "$(scripts/podman-up.sh)". Stop it with scripts/podman-down.sh DIR.
# Needs root, podman, runc, netavark, busybox (static) and docker-compose.
set -euo pipefail
for t in podman runc busybox curl; do
  command -v "$t" >/dev/null || { echo "podman-up: $t is not installed" >&2; exit 1; }
done
T=$(mktemp -d /tmp/podman-test.XXXXXX)
export CONTAINERS_CONF=$T/containers.conf CONTAINERS_STORAGE_CONF=$T/storage.conf XDG_RUNTIME_DIR=$T/run
mkdir -p "$T/root" "$T/runroot" "$T/run" "$T/tmp" "$T/networks"
NOFILE=$(ulimit -Hn); NPROC=$(ulimit -Hu); PIDMAX=$(cat /proc/sys/kernel/pid_max)
{ [ "$NPROC" = unlimited ] || [ "$NPROC" -gt "$PIDMAX" ]; } && NPROC=$PIDMAX
[ "$NOFILE" = unlimited ] && NOFILE=1048576
printf '[storage]\ndriver = "vfs"\ngraphroot = "%s/root"\nrunroot = "%s/runroot"\n' "$T" "$T" > "$T/storage.conf"
cat > "$T/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$NOFILE:$NOFILE", "nproc=$NPROC:$NPROC"]
[network]
network_config_dir = "$T/networks"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/events.log"
tmp_dir = "$T/tmp"
static_dir = "$T/root/libpod"
volume_path = "$T/root/volumes"
CONF
setsid podman system service --time=0 "unix://$T/podman.sock" </dev/null >"$T/service.log" 2>&1 &
echo $! > "$T/service.pid"
for _ in $(seq 100); do
  curl -sf --unix-socket "$T/podman.sock" http://d/_ping >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf --unix-socket "$T/podman.sock" http://d/_ping >/dev/null || { echo "podman-up: service did not start (see $T/service.log)" >&2; exit 1; }
R=$T/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/tmp" "$R/proc" "$R/sys" "$R/dev"
cp "$(command -v busybox)" "$R/bin/"
ln -s busybox "$R/bin/sh"
echo 'root:x:0:0:root:/root:/bin/sh' > "$R/etc/passwd"
echo 'root:x:0:' > "$R/etc/group"
tar -C "$R" -cf "$T/rootfs.tar" .
podman import -q --change 'CMD ["/bin/busybox","sleep","infinity"]' "$T/rootfs.tar" local/busybox:test >/dev/null
echo "export DOCKER_HOST=unix://$T/podman.sock NOBA_PODMAN_DIR=$T"
