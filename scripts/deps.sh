#!/usr/bin/env bash
# Installs what the tests need when it is missing: Debian packages (Prometheus,
# OpenSSH server, Chromium) when running as root with apt, golangci-lint from
# the Go module proxy, and the npm packages of web/ and e2e/. Idempotent: it
# does nothing for what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$(go env GOPATH)/bin"

need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
# A real container engine (Podman serving the Docker API) and docker-compose
# for the container tests (recipe: shared/research/container-engine.md).
command -v podman >/dev/null 2>&1 || need+=(podman runc netavark aardvark-dns iptables catatonit)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
# caddy validates the scaled compose example's Caddyfile (deploy/); systemd-analyze verifies the units.
command -v caddy >/dev/null 2>&1 || need+=(caddy)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
# restic for the backup tests; smartctl and rclone for operations/integrations.
command -v restic >/dev/null 2>&1 || need+=(restic)
command -v smartctl >/dev/null 2>&1 || need+=(smartmontools)
command -v rclone >/dev/null 2>&1 || need+=(rclone)
# PostgreSQL for the PostgreSQL store and replica tests (scripts/pg-up.sh).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps: apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "deps: missing ${need[*]} (install them; the tests that need them will skip)" >&2
  fi
fi

if ! command -v golangci-lint >/dev/null 2>&1; then
  echo "deps: go install golangci-lint"
  go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
fi

for d in web e2e; do
  # npm ci when node_modules is missing or older than the lock file.
  if [ -f "$d/package-lock.json" ] && { [ ! -f "$d/node_modules/.package-lock.json" ] || [ "$d/package-lock.json" -nt "$d/node_modules/.package-lock.json" ]; }; then
    echo "deps: npm ci --prefix $d"
    npm ci --prefix "$d" --no-audit --no-fund --loglevel=error
  fi
done
