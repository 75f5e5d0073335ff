# innosandbox — the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
BIN       := bin/innosandbox
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
FUZZTIME  ?= 5000x
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Spectral (OpenAPI linter), pinned by tools/spectral/package-lock.json and
# installed into that folder only; `make test` never needs Node.
SPECTRAL_DIR := tools/spectral
SPECTRAL     := $(SPECTRAL_DIR)/node_modules/.bin/spectral
SPECTRAL_OK  := $(SPECTRAL_DIR)/node_modules/.installed
SPECS        := spec/innopaas.yaml spec/sandbox.yaml

.PHONY: kill-restart bench-deliveries bench-restart bench-webhooks soak run test build lint lint-spec vet fmt-check staticcheck fuzz fuzz-long bench docker clean contract contract-url contract-real

## run: start the sandbox on its embedded default store (a SQLite file, innosandbox.db)
run:
	$(GO) run ./cmd/innosandbox serve

## test: vet, every test with the race detector, the example modules' tests and a short run of each fuzz target
test: vet
	$(GO) test -race -count=1 ./...
	cd examples/orderupdates && $(GO) vet ./... && $(GO) test -race -count=1 ./...
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME)

## contract: the Gherkin features against a sandbox started in process (pretty report)
contract:
	$(GO) run ./cmd/innosandbox test

## contract-url: the features against a running sandbox: make contract-url BASE_URL=http://127.0.0.1:8080
contract-url:
	@mkdir -p reports
	$(GO) run ./cmd/innosandbox test --target url --base-url $(BASE_URL) --format progress --format junit:reports/contract.xml

## contract-real: the public-API features against a real endpoint (BASE_URL, INNOPAAS_APPKEY, INNOPAAS_AUTHORIZATION)
contract-real:
	@mkdir -p reports
	$(GO) run ./cmd/innosandbox test --target real --base-url $(BASE_URL) --format progress --format junit:reports/contract.xml

## build: a static binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/innosandbox

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

staticcheck:
	$(GO) run $(STATICCHECK) ./...

## lint: gofmt, go vet and staticcheck
lint: fmt-check vet staticcheck

## lint-spec: both OpenAPI documents through Spectral's spectral:oas rules (.spectral.yaml); fails on any error (needs Node and npm)
lint-spec: $(SPECTRAL_OK)
	$(SPECTRAL) lint --ruleset .spectral.yaml --fail-severity error $(SPECS)

# npm ci only when the lock file is newer than the last install; install
# scripts are not needed by Spectral and are not run.
$(SPECTRAL_OK): $(SPECTRAL_DIR)/package.json $(SPECTRAL_DIR)/package-lock.json
	npm ci --prefix $(SPECTRAL_DIR) --ignore-scripts --no-audit --no-fund
	touch $@

## fuzz: each fuzz target for FUZZTIME (5000 inputs each in `make test`, a few seconds; `make fuzz-long` runs 5 minutes each).
## A count, not a duration: with Go 1.26 a duration can end in a spurious "context deadline exceeded" (go.dev/issue/75804).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzPublicSubmit$$' -fuzztime $(FUZZTIME) ./mockserver/
	$(GO) test -run '^$$' -fuzz '^FuzzWebhookConfig$$' -fuzztime $(FUZZTIME) ./mockserver/
	$(GO) test -run '^$$' -fuzz '^FuzzUploadFile$$' -fuzztime $(FUZZTIME) ./mockserver/
	$(GO) test -run '^$$' -fuzz '^FuzzTrigger$$' -fuzztime $(FUZZTIME) ./mockserver/

fuzz-long:
	$(MAKE) fuzz FUZZTIME=5m

## bench: the Go benchmarks (ns/op, allocs/op); see docs/BENCHMARKS.md for the load program
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## kill-restart: kill -9 a sandbox in the middle of 10,000 webhooks, restart it, check every event arrives (Python 3)
kill-restart: build
	python3 scripts/kill-restart.py --binary $(BIN)

## bench-deliveries: webhook deliveries per second and due-to-first-attempt latency (docs/BENCHMARKS.md)
bench-deliveries: build
	$(GO) run ./bench/deliveries -binary $(BIN)

## bench-restart: the first submit after /healthz on a restart over a large SQLite file (docs/BENCHMARKS.md)
bench-restart: build
	$(GO) run ./bench/restart -binary $(BIN)
## bench-webhooks: sends at fixed rates with the demo app's webhook on a local receiver; the highest rate whose push lag p99 stays under 1 s, per store (docs/BENCHMARKS.md)
bench-webhooks: build
	$(GO) run ./bench/webhooks -binary $(BIN)

## soak: an hour (SOAK=5m for CI) of mixed load on SQLite and, with INNOSANDBOX_TEST_POSTGRES_DSN, two PostgreSQL replicas; exits 1 when judged bad (not part of `make test`)
SOAK ?= 1h
soak: build
	$(GO) run ./bench/soak -binary $(BIN) -duration $(SOAK)

## docker: build the container image (needs a Docker engine)
docker:
	docker build --build-arg VERSION=$(VERSION) -t innosandbox:$(VERSION) .

clean:
	rm -rf bin
