#!/usr/bin/env bash
# Installs the test dependencies, builds the normal tree (build/) and the sanitizer tree
# (build-asan/, -DSB_SANITIZE=ON), and runs the tests: unit, integration and cluster in both,
# browser and interop in the sanitizer tree only;
# then the ThreadSanitizer tree (build-tsan/, -DSB_TSAN=ON) builds and runs only the
# multi-threaded unit tests (ctest label "threads"; about 2 minutes on a fresh tree), and the
# fuzz tree (build-fuzz/, clang, -DSB_FUZZ=ON) builds the libFuzzer targets and runs each for
# 20 s over its committed seeds, two at a time (ctest label "fuzz"; about two minutes).
# Exits non-zero if anything fails; every tree is always tried so one run shows all failures.
#
# Usage: scripts/test.sh [--skip-deps] [--only build|build-asan|build-tsan|build-fuzz] [-- CTEST_ARGS...]
#   --skip-deps  do not run scripts/install-deps.sh --test first
#   --only DIR   build and test only that tree
#   CTEST_ARGS   passed to ctest (e.g. -R browser; not to the TSAN and fuzz trees)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
skip_deps=0
only=""
ctest_args=()

usage() { sed -n '2,13s/^# \{0,1\}//p' "$0"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --skip-deps) skip_deps=1; shift ;;
    --only) [ $# -ge 2 ] || { echo "test.sh: --only needs build, build-asan, build-tsan or build-fuzz" >&2; exit 2; }
            only=$2; shift 2 ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) echo "test.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$only" in ""|build|build-asan|build-tsan|build-fuzz) ;;
  *) echo "test.sh: --only takes build, build-asan, build-tsan or build-fuzz" >&2; exit 2 ;; esac

cd "$root"
if [ "$skip_deps" = 0 ]; then
  "$here/install-deps.sh" --test || { echo "test.sh: installing dependencies failed" >&2; exit 1; }
fi

jobs=2   # the machines have 2 cores shared with others
failed=()

# run_tree DIR [CMAKE_ARGS...]: configure, build and test one tree; records DIR on failure.
# skip_labels (a ctest label regex, "" = none) leaves tests out of that tree's run.
run_tree() {
  local dir=$1; shift
  local skip=()
  [ -n "${skip_labels:-}" ] && [ ${#ctest_args[@]} -eq 0 ] && skip=(-LE "$skip_labels")
  echo "=== $dir: configure"
  if ! cmake -S . -B "$dir" "$@"; then failed+=("$dir (configure)"); return; fi
  echo "=== $dir: build"
  if ! cmake --build "$dir" -j "$jobs"; then failed+=("$dir (build)"); return; fi
  echo "=== $dir: test"
  if ! ctest --test-dir "$dir" --output-on-failure --no-tests=error "${skip[@]}" "${ctest_args[@]}"; then
    failed+=("$dir (tests)")
  fi
}

# The browser and interop tests (real Chromium, aiortc and webrtcbin clients, mostly media held
# for a set time: 6.4 minutes in the normal tree and 8.8 in the sanitizer tree, of a 30-minute
# suite when both trees ran the browser tests) run in the sanitizer tree only: the same assertions, with the server checked for memory errors and undefined
# behaviour too. Name them in CTEST_ARGS to run them in the normal tree.
if [ -z "$only" ] || [ "$only" = build ]; then
  skip_labels='interop|browser' run_tree build -DSB_SANITIZE=OFF
fi
if [ -z "$only" ] || [ "$only" = build-asan ]; then
  run_tree build-asan -DSB_SANITIZE=ON
fi

# The TSAN tree: only what starts threads (TSAN cannot share a tree with ASan, and the whole
# suite under it would cost more CI time than the races it can find outside those tests).
if [ -z "$only" ] || [ "$only" = build-tsan ]; then
  echo "=== build-tsan: configure"
  if ! cmake -S . -B build-tsan -DSB_TSAN=ON -DSB_SANITIZE=OFF; then
    failed+=("build-tsan (configure)")
  else
    echo "=== build-tsan: build (multi-threaded tests only)"
    if ! cmake --build build-tsan -j "$jobs" --target threaded_tests; then
      failed+=("build-tsan (build)")
    else
      echo "=== build-tsan: test"
      if ! ctest --test-dir build-tsan --output-on-failure --no-tests=error -L threads; then
        failed+=("build-tsan (tests)")
      fi
    fi
  fi
fi

# The fuzz tree: clang with libFuzzer, ASan and UBSan; only the fuzz targets are built, and the
# two cores run two targets at a time.
if [ -z "$only" ] || [ "$only" = build-fuzz ]; then
  echo "=== build-fuzz: configure"
  if ! CC=clang cmake -S . -B build-fuzz -DSB_FUZZ=ON; then
    failed+=("build-fuzz (configure)")
  else
    echo "=== build-fuzz: build (fuzz targets only)"
    if ! cmake --build build-fuzz -j "$jobs" --target fuzz_targets; then
      failed+=("build-fuzz (build)")
    else
      echo "=== build-fuzz: test"
      if ! ctest --test-dir build-fuzz --output-on-failure --no-tests=error -L fuzz -j "$jobs"; then
        failed+=("build-fuzz (tests)")
      fi
    fi
  fi
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "test.sh: FAILED: ${failed[*]}"
  exit 1
fi
echo "test.sh: all builds and tests passed"
