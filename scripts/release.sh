#!/usr/bin/env bash
# Release builds: static noba and noba-agent binaries (CGO_ENABLED=0,
# -trimpath, the time zone database embedded, versions set with -ldflags) for
# every platform, into $DIST (default dist/), plus SHA256SUMS in sha256sum's
# format. The agent files are named as /api/agent/update looks them up
# (noba-agent-<os>-<arch>[.exe]), so they can be copied as they are into the
# server's $NOBA_DATA_DIR/agent/ with their .version sidecars.
#   scripts/release.sh                    everything (make release)
#   PLATFORMS="linux/arm64" BINARIES=noba-agent scripts/release.sh
# VERSION sets both versions; SERVER_VERSION / AGENT_VERSION one each
# (defaults: internal/config and internal/wire).
set -euo pipefail
cd "$(dirname "$0")/.."
DIST=${DIST:-dist}
# linux/armv7 is GOARCH=arm GOARM=7, named "arm" (what the install script asks for).
AGENT_PLATFORMS="linux/amd64 linux/arm64 linux/armv7 linux/386 linux/riscv64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64 freebsd/amd64"
# The server: Linux, where it is meant to run (modernc.org/sqlite supports these).
SERVER_PLATFORMS="linux/amd64 linux/arm64 linux/armv7 linux/386"
PLATFORMS=${PLATFORMS:-}
BINARIES=${BINARIES:-noba noba-agent}
SERVER_VERSION=${SERVER_VERSION:-${VERSION:-$(sed -n 's/^var Version = "\(.*\)"/\1/p' internal/config/config.go)}}
AGENT_VERSION=${AGENT_VERSION:-${VERSION:-$(sed -n 's/^var AgentVersion = "\(.*\)"/\1/p' internal/wire/wire.go)}}
[ -n "$SERVER_VERSION" ] && [ -n "$AGENT_VERSION" ] || { echo "release: cannot read the versions" >&2; exit 1; }
mkdir -p "$DIST"

build() { # binary os/arch
  local bin=$1 os=${2%/*} arch=${2#*/} goarm="" ext="" name ldflags
  if [ "$arch" = armv7 ]; then arch=arm goarm=7; fi
  [ "$os" = windows ] && ext=.exe
  name="$bin-$os-$arch$ext"
  case $bin in
    noba) ldflags="-s -w -X github.com/noba-go/noba/internal/config.Version=$SERVER_VERSION" ;;
    noba-agent) ldflags="-s -w -X github.com/noba-go/noba/internal/wire.AgentVersion=$AGENT_VERSION" ;;
    *) echo "release: unknown binary $bin" >&2; return 1 ;;
  esac
  echo "release: $DIST/$name"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch GOARM=$goarm go build -trimpath -tags timetzdata \
    -ldflags "$ldflags" -o "$DIST/$name" "./cmd/$bin"
  # -trimpath keeps -ldflags out of the build info, so the server reads an
  # agent's version from this sidecar (as for make agents).
  if [ "$bin" = noba-agent ]; then echo "$AGENT_VERSION" > "$DIST/$name.version"; fi
}

for bin in $BINARIES; do
  if [ -n "$PLATFORMS" ]; then list=$PLATFORMS
  elif [ "$bin" = noba ]; then list=$SERVER_PLATFORMS
  else list=$AGENT_PLATFORMS; fi
  for p in $list; do build "$bin" "$p"; done
done
# Checksums of every binary in DIST (this run's and earlier ones').
(cd "$DIST" && find . -maxdepth 1 -type f -name 'noba*' ! -name '*.version' -printf '%f\n' | LC_ALL=C sort |
  xargs -r sha256sum > SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
echo "release: $DIST/SHA256SUMS"
