# The two commands a newcomer needs: `make run` and `make test`.
BUILD_DIR      ?= build
TEST_BUILD_DIR ?= build-asan
JOBS           ?= $(shell nproc)
RUN_ARGS       ?= --listen 127.0.0.1:2121 --root ftp-root --demo-user ftpuser

.PHONY: all build run test deps bench clean format tsan iomodels-report

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DMUXIO_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# The FTP server on 127.0.0.1:2121 serving ./ftp-root, with a user whose random password is
# printed at start-up.
run: build
	@mkdir -p ftp-root
	$(BUILD_DIR)/bin/muxftpd $(RUN_ARGS)

# Tests run under AddressSanitizer + UndefinedBehaviorSanitizer; then the multi-threaded tests
# (label "threads": loops, cross-thread wake-ups, the offload pool) under ThreadSanitizer.
test: deps
	@cmake -S . -B $(TEST_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DMUXIO_SANITIZE=address,undefined >/dev/null
	@cmake --build $(TEST_BUILD_DIR) -j $(JOBS)
	@cd $(TEST_BUILD_DIR) && ctest --output-on-failure --timeout 900 -j 1
	@$(MAKE) --no-print-directory tsan

TSAN_TARGETS = event_loop_test task_test
tsan: deps
	@cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMUXIO_SANITIZE=thread >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target $(TSAN_TARGETS)
	@cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure --timeout 300 -L threads

bench: build
	@bash bench/echo.sh

# The IO-models lab: every examples/iomodels server under the same loads; writes
# docs/iomodels/REPORT.md and its plots (about 10 minutes on 2 cores; SECONDS=1 for a quick run).
iomodels-report: build
	@/usr/bin/python3 bench/iomodels/lab.py

format:
	@git ls-files '*.cpp' '*.hpp' '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(TEST_BUILD_DIR) build-tsan
