// Package containers serves router 5 (containers): container control, logs,
// inspect, stats and image pull through the Docker Engine API (Docker or
// Podman, on the socket the settings name), Compose projects found by their
// com.docker.compose.* labels and driven through the compose CLI, and
// TrueNAS VM control over its REST API. Without an engine it answers the
// documented fallbacks: empty lists, 404 "No container runtime found".
package containers
