# The two commands a newcomer needs: `make run` and `make test`.
BUILD_DIR      ?= build
TEST_BUILD_DIR ?= build-asan
JOBS           ?= $(shell nproc)
TLS_DIR        ?= ftp-tls
RUN_ARGS       ?= --listen 127.0.0.1:2121 --root ftp-root --demo-user ftpuser \
                  --tls optional --tls-cert $(TLS_DIR)/cert.pem --tls-key $(TLS_DIR)/key.pem

.PHONY: all build run cluster test deps bench bench-client bench-cluster clean format tsan fuzz fuzz-short iomodels-report

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DMUXIO_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# The FTP server on 127.0.0.1:2121 serving ./ftp-root, with a user whose random password is
# printed at start-up, and FTPS (AUTH TLS) with a self-signed certificate made on the first run.
run: build
	@mkdir -p ftp-root
	@bash scripts/self-signed-cert.sh $(TLS_DIR)
	$(BUILD_DIR)/bin/muxftpd $(RUN_ARGS)

# Two muxftpd nodes on one shared root, accounts in a throwaway PostgreSQL, HAProxy in front on
# 127.0.0.4:$(CLUSTER_PORT) sending PROXY v2 (the bed test_cluster.py runs; scripts/cluster.sh).
# Prints a user and its password and how to connect; Ctrl-C stops everything.
CLUSTER_PORT ?= 2121
cluster: build
	@bash scripts/cluster.sh $(BUILD_DIR)/bin --port $(CLUSTER_PORT)

# Tests run under AddressSanitizer + UndefinedBehaviorSanitizer; then the multi-threaded tests
# (label "threads": loops, cross-thread wake-ups, the offload pool) and a two-loop muxftpd under
# a mixed load (test_threads.py) under ThreadSanitizer; then a short libFuzzer run of each
# protocol fuzz target.
test: deps
	@cmake -S . -B $(TEST_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DMUXIO_SANITIZE=address,undefined >/dev/null
	@cmake --build $(TEST_BUILD_DIR) -j $(JOBS)
	@cd $(TEST_BUILD_DIR) && ctest --output-on-failure --timeout 900 -j 1
	@$(MAKE) --no-print-directory tsan
	@$(MAKE) --no-print-directory fuzz-short

TSAN_TARGETS = event_loop_test task_test rate_limiter_test
tsan: deps
	@cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMUXIO_SANITIZE=thread >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target $(TSAN_TARGETS) muxftpd
	@cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure --timeout 300 -L threads
	@MUXFTPD=$(CURDIR)/build-tsan/bin/muxftpd /usr/bin/python3 -m pytest -q \
	  -p no:cacheprovider tests/integration/ftpd/test_threads.py

bench: build
	@bash bench/echo.sh

# The FTP client against lftp, with the server limiting each connection (bench/ftp_client.py).
bench-client: build
	@/usr/bin/python3 bench/ftp_client.py

# The cluster's costs: a PostgreSQL user store, the cluster's shared state and HAProxy against
# one node with a users file (bench/cluster.py; about 4 minutes).
bench-cluster: build
	@/usr/bin/python3 bench/cluster.py

# The IO-models lab: every examples/iomodels server under the same loads; writes
# docs/iomodels/REPORT.md and its plots (about 12 minutes on 2 cores: each point measured
# REPEATS=3 times for SECONDS=1; REPEATS=1 for a quick run, REPORT_DIR=/tmp/x to keep docs/ as is).
iomodels-report: build
	@/usr/bin/python3 bench/iomodels/lab.py

format:
	@git ls-files '*.cpp' '*.hpp' '*.c' '*.h' | xargs clang-format -i

# libFuzzer (clang, in build-fuzz; scripts/fuzz.sh): FUZZ_SECONDS each, or a few seconds each
# under `make test`. A crash (input in build-fuzz/artifacts/) fails the run.
FUZZ_SECONDS       ?= 60
FUZZ_SHORT_SECONDS ?= 5
fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) bash scripts/fuzz.sh
fuzz-short: deps
	@FUZZ_SECONDS=$(FUZZ_SHORT_SECONDS) JOBS=$(JOBS) bash scripts/fuzz.sh

clean:
	rm -rf $(BUILD_DIR) $(TEST_BUILD_DIR) build-tsan build-fuzz
