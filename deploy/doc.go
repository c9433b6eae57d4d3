// Package deploy holds the ways NOBA is installed — the container image
// (../Dockerfile, Dockerfile.prebuilt, image/), the compose files
// (compose.yaml, compose.scaled.yaml, caddy/), the systemd units (systemd/)
// and the release builds (../scripts/release.sh) — and the tests that build,
// start and verify them with the real tools: podman, docker-compose, caddy,
// systemd-analyze and the Go toolchain.
package deploy
