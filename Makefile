# NOBA Command Center — developer entry points. CI runs .ci/run, which runs `make test`.
GO ?= go
GOFLAGS_RACE ?= -race

.PHONY: run build agents release deps test test-go test-pg fuzz web web-test lint fmt-check vet

## run: build the web UI and the binaries, then start the server (see README for the environment)
run: build
	./bin/noba serve

## build: the web UI (when npm is available) and both binaries into bin/
build: web
	$(GO) build -o bin/ ./cmd/...

## agents: cross-build the agent for every platform /api/agent/update serves, into the server's agent
## directory ($$NOBA_DATA_DIR/agent), each with a .version sidecar
AGENT_DIR ?= $(or $(NOBA_DATA_DIR),$(HOME)/.local/share/noba)/agent
AGENT_VERSION ?= $(shell sed -n 's/^var AgentVersion = "\(.*\)"/\1/p' internal/wire/wire.go)
agents:
	@mkdir -p "$(AGENT_DIR)"
	@for t in linux/amd64 linux/arm64 linux/arm windows/amd64 darwin/amd64 darwin/arm64; do \
	  os=$${t%/*}; arch=$${t#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  out="$(AGENT_DIR)/noba-agent-$$os-$$arch$$ext"; echo "build $$out"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch GOARM=7 $(GO) build -trimpath -ldflags="-s -w" -o "$$out" ./cmd/noba-agent || exit 1; \
	  echo "$(AGENT_VERSION)" > "$$out.version"; \
	done

## release: static noba and noba-agent for every supported platform into dist/, with SHA256SUMS
## (scripts/release.sh; VERSION=X.Y.Z sets both versions). Builds the web UI first.
release: web
	./scripts/release.sh

## web: build the single-page app into web/dist (skipped when web/ has no package.json)
web:
	@if [ -f web/package.json ] && command -v npm >/dev/null 2>&1; then \
	  [ -d web/node_modules ] || npm --prefix web ci --no-audit --no-fund --loglevel=error; \
	  npm --prefix web run build; \
	else echo "web: npm or web/package.json missing, serving the placeholder page"; fi

## deps: install what the tests need when missing (apt packages as root, golangci-lint, npm packages)
deps:
	./scripts/deps.sh

## test: everything CI checks — formatting, vet, lint, Go tests with the race detector, the store and
## replica tests again on PostgreSQL, browser tests
test: deps fmt-check vet build lint test-go test-pg fuzz web-test

## test-go: the Go tests, with a Podman engine serving the Docker API (scripts/podman-up.sh) for the
## container tests; without one they skip (and fail under CI=true)
test-go:
	@if P=$$(scripts/podman-up.sh); then eval "$$P"; export DOCKER_HOST NOBA_PODMAN_DIR; \
	  else echo "test-go: no podman engine: container tests will skip"; fi; \
	  rc=0; $(GO) test $(GOFLAGS_RACE) -count=1 -timeout 25m ./... || rc=$$?; \
	  if [ -n "$${NOBA_PODMAN_DIR:-}" ]; then scripts/podman-down.sh "$$NOBA_PODMAN_DIR"; fi; exit $$rc

## test-pg: the tests again on a throwaway PostgreSQL (scripts/pg-up.sh): each test gets a fresh database
## copied from a migrated template; no -race (the SQLite run in test-go has it). make test runs the
## rooms with the most SQL and the replica tests (about 2 minutes); every room passes too:
## make test-pg PG_PKGS=./internal/... (about 5 minutes on 2 cores)
PG_PKGS ?= ./internal/db/... ./internal/cluster ./internal/server ./internal/stats ./internal/auth ./internal/alerts ./internal/agents \
	./internal/monitoring ./internal/healing ./internal/automations ./internal/dashboards ./internal/jobs/runner ./internal/instances ./internal/intelligence
test-pg:
	@P=$$(scripts/pg-up.sh) || exit 1; eval "$$P"; export NOBA_TEST_PG_URL NOBA_PG_DIR; \
	  rc=0; $(GO) test -count=1 -timeout 10m $(PG_PKGS) || rc=$$?; scripts/pg-down.sh "$$NOBA_PG_DIR"; exit $$rc

## web-test: the UI's type check and its Playwright end-to-end tests (Chromium, real server and agent);
## `make build` has already built the UI and the binaries
web-test:
	@if [ -f web/package.json ] && command -v npm >/dev/null 2>&1; then \
	  npm --prefix web run typecheck && E2E_SKIP_BUILD=1 npm --prefix web run e2e; \
	else echo "web-test: npm or web/package.json missing"; exit 1; fi

## fuzz: a short run of every fuzz target that decodes outside input (agent report and WebSocket
## messages, settings import, config restore; the condition parser's corpus runs in test-go).
## Budgets are execution counts, not durations: a duration makes Go's fuzz coordinator race its
## own deadline against an in-flight worker and fail with a bare "context deadline exceeded" and
## no crasher on a loaded machine (go.dev/issue/75804, fixed in Go 1.27). Each count is a few
## seconds' work here; a real finding still fails and writes its input under testdata/fuzz.
FUZZ_WIRE ?= 200000x
FUZZ_CONFIG ?= 10000x
FUZZ_RESTORE ?= 4000x
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeReport$$' -fuzztime $(FUZZ_WIRE) ./internal/wire
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeMessage$$' -fuzztime $(FUZZ_WIRE) ./internal/wire
	$(GO) test -run '^$$' -fuzz '^FuzzSettingsImport$$' -fuzztime $(FUZZ_CONFIG) ./internal/config
	$(GO) test -run '^$$' -fuzz '^FuzzRestore$$' -fuzztime $(FUZZ_RESTORE) ./internal/config

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

## lint: golangci-lint (errcheck on; depguard keeps rooms from importing each other)
lint:
	@PATH="$$PATH:$$($(GO) env GOPATH)/bin"; if command -v golangci-lint >/dev/null 2>&1; then golangci-lint run ./...; \
	else echo "golangci-lint not installed: skipping (install: go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@latest)"; fi
