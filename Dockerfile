# syntax=docker/dockerfile:1
# NOBA Command Center server image: a static binary on scratch, run as the
# non-root user noba (65532), state in the /data volume, health checked by the
# binary itself. Build: docker build -t noba .   (podman build --format docker
# keeps the HEALTHCHECK). Without registry access, build the binary on the host
# and use deploy/Dockerfile.prebuilt (see README "Install"); its final stage is
# the same as this one's.
ARG GO_VERSION=1.26
ARG NODE_VERSION=20

# The web UI (web/dist, embedded into the binary).
FROM docker.io/library/node:${NODE_VERSION}-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build

# The static server binary and the image's root file system.
FROM docker.io/library/golang:${GO_VERSION}-bookworm AS build
ARG VERSION=
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=web /src/web/dist/ ./web/dist/
RUN set -eu; \
    v="${VERSION:-$(sed -n 's/^var Version = "\(.*\)"/\1/p' internal/config/config.go)}"; \
    CGO_ENABLED=0 go build -trimpath -tags timetzdata \
      -ldflags "-s -w -X github.com/noba-go/noba/internal/config.Version=$v" -o /out/noba ./cmd/noba; \
    deploy/image/rootfs.sh /out/image /out/noba /etc/ssl/certs/ca-certificates.crt

FROM scratch
COPY --from=build /out/image/root/ /
COPY --from=build --chown=65532:65532 /out/image/owned/ /
# --- final stage: keep the lines below identical to deploy/Dockerfile.prebuilt ---
ENV NOBA_DATA_DIR=/data NOBA_LISTEN=0.0.0.0:8080 HOME=/data
USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/usr/local/bin/noba", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/noba"]
CMD ["serve"]
