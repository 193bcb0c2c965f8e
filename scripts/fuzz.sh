#!/usr/bin/env bash
# Builds the libFuzzer targets of the FTP protocol layer with clang (in build-fuzz) and runs each
# for FUZZ_SECONDS. Corpora grow in build-fuzz/corpus/<target> (the committed seeds in
# tests/fuzz/corpus/ are read, never written); crashes land in build-fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh                      # every target, 60 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh vpath host_port
#
# Environment: FUZZ_SECONDS (60), BUILD_DIR (build-fuzz), JOBS (nproc), CC/CXX (clang/clang++).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
BUILD_DIR=${BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc)}
export CC=${CC:-clang} CXX=${CXX:-clang++}
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(command vpath host_port listing reply ascii proxy_header)

if ! command -v "$CXX" >/dev/null; then
  echo "fuzz.sh: $CXX not found (scripts/deps.sh installs clang)" >&2
  exit 1
fi
# libFuzzer's runtime is a separate Debian package (libclang-rt-<version>-dev).
probe='extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }'
if ! echo "$probe" | "$CXX" -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
  echo "fuzz.sh: $CXX cannot link -fsanitize=fuzzer; install libclang-rt-<version>-dev" >&2
  exit 1
fi

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMUXIO_FUZZ=ON >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target "${targets[@]/%/_fuzz}"

failed=()
for t in "${targets[@]}"; do
  corpus="$BUILD_DIR/corpus/$t"
  artifacts="$BUILD_DIR/artifacts/$t/"
  mkdir -p "$corpus" "$artifacts"
  echo "== $t: ${FUZZ_SECONDS}s"
  # New inputs go to the first directory; the seeds are only read.
  if ! "$BUILD_DIR/bin/${t}_fuzz" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
      -artifact_prefix="$artifacts" -print_final_stats=1 "$corpus" "tests/fuzz/corpus/$t"; then
    failed+=("$t")
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: crashes in: ${failed[*]} (inputs in $BUILD_DIR/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: no crash in ${targets[*]} (${FUZZ_SECONDS}s each)"
