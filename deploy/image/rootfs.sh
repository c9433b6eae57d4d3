#!/bin/sh
# Lays out the root file system of the NOBA server image in DIR: DIR/root
# holds the static server binary, CA certificates, /etc/passwd and /etc/group
# with the non-root user noba (65532) and /tmp; DIR/owned holds /data (the
# volume), which the Dockerfiles copy with --chown=65532:65532 (a COPY of a
# directory's contents does not chown the directory itself, so /data must be
# an entry of the copied tree). Both the multi-stage
# Dockerfile and deploy/Dockerfile.prebuilt (built from binaries compiled on
# the host, for machines without registry access) use it, so the two images
# are the same.
#   usage: deploy/image/rootfs.sh DIR NOBA_BINARY [CA_BUNDLE]
set -eu
[ $# -ge 2 ] || { echo "usage: $0 DIR NOBA_BINARY [CA_BUNDLE]" >&2; exit 2; }
DIR=$1 BIN=$2 CA=${3:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$BIN" ] || { echo "rootfs: no binary at $BIN" >&2; exit 1; }
[ -f "$CA" ] || { echo "rootfs: no CA bundle at $CA (install ca-certificates)" >&2; exit 1; }
OWNED=$DIR/owned DIR=$DIR/root
mkdir -p "$DIR/usr/local/bin" "$DIR/etc/ssl/certs" "$DIR/tmp" "$OWNED/data"
cp "$BIN" "$DIR/usr/local/bin/noba"
chmod 0755 "$DIR/usr/local/bin/noba"
cp "$CA" "$DIR/etc/ssl/certs/ca-certificates.crt"
chmod 0644 "$DIR/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnoba:x:65532:65532:NOBA Command Center:/data:/sbin/nologin\n' > "$DIR/etc/passwd"
printf 'root:x:0:\nnoba:x:65532:\n' > "$DIR/etc/group"
chmod 0644 "$DIR/etc/passwd" "$DIR/etc/group"
chmod 1777 "$DIR/tmp"
chmod 0700 "$OWNED/data"
