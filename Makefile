# Gatehouse: the two fresh-machine commands are `make run` and `make test`.
GO      ?= go
BIN     := bin/gatehouse
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build run test test-deps vet fmt-check fuzz soak bench bench-scale bench-replicas clean

# Fuzz targets (package:Target); `make fuzz` runs each for FUZZTIME, `make
# test` for 5000 inputs each (a count, not a duration: a busy machine then
# does the same work, later, instead of tripping the fuzzer's deadline).
FUZZ_TARGETS := ./oidc:FuzzParseForm ./oidc:FuzzBasicAuth ./oidc:FuzzForeignJWT ./admin:FuzzAdminJSON ./realms:FuzzParseISODuration ./realms:FuzzUserKeyInputs ./store/bolt:FuzzHotRows
FUZZTIME ?= 60s

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gatehouse

# Runs the server with the embedded store in ./data (zero config). Ctrl-C
# reaches every process of the terminal's group: make runs the binary itself
# (not `go run`, which exits 1 when interrupted), and the server exits 0
# after a graceful shutdown, so make reports no error.
run: build
	$(BIN) serve

# ./... skips testdata/, where the README's signing client lives.
vet:
	$(GO) vet ./... ./testdata/cdpsign

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The admin-client test (admin/kcadmin_test.go) drives Keycloak's own admin
# library with node, and oidc/openidclient_test.go the openid-client
# relying-party library. Their pinned packages are installed here, once (again when
# the lock file changes), so a plain `go test` never reaches the npm
# registry: without node_modules that test skips and says how to install it.
KCADMIN := testdata/kcadmin
test-deps:
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
		echo "node/npm not found: the Keycloak admin client and openid-client tests will be skipped"; \
	elif [ ! -e $(KCADMIN)/node_modules/.package-lock.json ] || \
		[ $(KCADMIN)/package-lock.json -nt $(KCADMIN)/node_modules/.package-lock.json ]; then \
		echo "npm ci in $(KCADMIN)"; \
		cd $(KCADMIN) && npm ci --no-audit --no-fund; \
	fi

# The PostgreSQL tests run against GATEHOUSE_TEST_POSTGRES; when it is unset
# and the local database below answers, make test points them at it, else
# they skip, saying so.
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

test: fmt-check vet test-deps
	@url="$${GATEHOUSE_TEST_POSTGRES:-}"; \
	if [ -z "$$url" ] && $(GO) run ./internal/pgprobe '$(PG_TEST_URL)' 2>/dev/null; then url='$(PG_TEST_URL)'; fi; \
	if [ -z "$$url" ]; then echo "make test: GATEHOUSE_TEST_POSTGRES is unset and no PostgreSQL answers at $(PG_TEST_URL): the PostgreSQL tests SKIP"; \
	else echo "make test: the PostgreSQL tests run against GATEHOUSE_TEST_POSTGRES"; fi; \
	export GATEHOUSE_TEST_POSTGRES="$$url"; \
	$(GO) test -race -count=1 ./... && \
	$(GO) test -run '^$$' -bench . -benchtime 1x ./... > /dev/null
	$(MAKE) --no-print-directory fuzz FUZZTIME=5000x

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

# Long reliability runs: many SIGKILL cycles under load (CRASH_CYCLES), then
# the fuzz targets for FUZZTIME each.
CRASH_CYCLES ?= 25
soak:
	GATEHOUSE_CRASH_CYCLES=$(CRASH_CYCLES) $(GO) test -race -count=1 -run 'TestCrashSafety' -v ./cmd/gatehouse

# Standard performance matrix: micro-benchmarks of the hot paths, then the
# load generator against a fresh server per signature algorithm (each
# workload at concurrency 1, 8, 32, 128 and 256). Record results in
# BENCHMARKS.md.
BENCH_DURATION ?= 5s
bench: build
	$(GO) build -o bin/gatehouse-bench ./cmd/gatehouse-bench
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1s ./oidc ./realms ./store/bolt
	./bin/gatehouse-bench -d $(BENCH_DURATION) -c 1,8,32,128,256 -markdown

# Replicas benchmark (issue 13): one and two replicas on one PostgreSQL
# database of their own (created and dropped on the server of
# GATEHOUSE_TEST_POSTGRES, else PG_TEST_URL), with the database's CPU and
# work per request. Each cell waits 22 s for PostgreSQL's counters.
bench-replicas: build
	$(GO) build -o bin/gatehouse-bench ./cmd/gatehouse-bench
	./bin/gatehouse-bench -replicas 1,2 -store "$${GATEHOUSE_TEST_POSTGRES:-$(PG_TEST_URL)}" \
		-grants client_credentials,refresh_token,introspect -algs ES256 -c 8,32 -d $(BENCH_DURATION)

# Scale benchmark (issue 5): 10,000 realms and one realm with 1,000,000 users
# (about 1 GB of temporary disk, several minutes), then the janitor bound.
SCALE_REALMS ?= 10000
SCALE_USERS  ?= 1000000
bench-scale: build
	$(GO) build -o bin/gatehouse-bench ./cmd/gatehouse-bench
	./bin/gatehouse-bench -scale -scale-realms $(SCALE_REALMS) -scale-users $(SCALE_USERS) -d $(BENCH_DURATION)

clean:
	rm -rf bin
