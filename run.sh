#!/usr/bin/env bash
# quietcore's one entry point, for a fresh Debian 12 machine as root.
#
#   ./run.sh                  install what is missing, build, run the main job
#   ./run.sh test [ARGS...]   same set-up, then the meson test suites
#                             (ARGS go to `meson test`, e.g. --suite unit);
#                             with no ARGS also the unit, dpdk and sanitized
#                             (route churn under traffic) suites under ASan+UBSan
#   ./run.sh asan [ARGS...]   only the sanitizer build's tests (default: unit suite)
#   ./run.sh bench [ARGS...]  the Google Benchmark micro-benchmarks
#
# Re-running on a built tree is quick: packages are checked with dpkg-query
# (no apt call when nothing is missing) and ninja rebuilds incrementally.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

BUILD_DIR=${QC_BUILD_DIR:-build}
ASAN_DIR=${QC_ASAN_DIR:-build-asan}

# Every Debian package the project needs, build and test time alike.
PACKAGES=(
    # toolchain and build
    g++ meson ninja-build pkg-config clang-format
    # libraries (DESIGN.md "Chosen dependencies")
    libdpdk-dev dpdk libhwloc-dev hwloc libnuma-dev liburcu-dev libseccomp-dev
    libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libtomlplusplus-dev
    nlohmann-json3-dev libspdlog-dev libfmt-dev prometheus-cpp-dev libcivetweb-dev
    # test tools (ping and iperf3: qc-fwd between network namespaces, tests/fwd)
    python3 util-linux procps iproute2 iputils-ping iperf3
    # forwarding peers (bench/compare-fwd): dpdk-testpmd, the l2fwd example's source
    dpdk-dev dpdk-doc
    # jitter peers and pictures (qc-jitter, bench/compare-jitter)
    rt-tests gnuplot-nox
    # qc-monitor serve is scraped by a real Prometheus; promtool checks the metrics
    prometheus
    # kernel/: build the task-isolation kernel and boot it (kernel/vm/)
    linux-source-6.1 bc flex bison libelf-dev libssl-dev cpio xz-utils
    busybox-static qemu-system-x86
    # kernel/ on arm64: cross-build the kernel and the static selftests, boot
    # qemu-system-aarch64 -M virt (the guest's busybox is busybox-static:arm64,
    # fetched by kernel/vm/run-selftests with apt-get download)
    qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross
)

log() { printf '==> %s\n' "$*" >&2; }

install_missing_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
            missing+=("$p")
        fi
    done
    ((${#missing[@]} == 0)) && return 0
    if ((EUID != 0)); then
        echo "run.sh: missing Debian packages: ${missing[*]}" >&2
        echo "run.sh: run as root (or install them) and try again" >&2
        exit 1
    fi
    log "installing ${#missing[@]} missing packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Use Debian's python3 for the tests' helper scripts, whatever else is on PATH.
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

configure_and_build() {
    local dir=$1
    shift
    if [[ ! -f "$dir/build.ninja" ]]; then
        log "configuring $dir"
        meson setup "$dir" "$@"
    fi
    log "building $dir"
    ninja -C "$dir"
}

# One plain closing line over the test logs of this run: "N passed, N failed, N skipped".
summarize_tests() {
    python3 - "$@" <<'PY'
import json, sys
counts = {"OK": 0, "EXPECTEDFAIL": 0, "FAIL": 0, "UNEXPECTEDPASS": 0, "TIMEOUT": 0, "ERROR": 0, "SKIP": 0}
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        if line.strip():
            r = json.loads(line)["result"]
            counts[r] = counts.get(r, 0) + 1
passed = counts["OK"] + counts["EXPECTEDFAIL"]
failed = sum(counts[k] for k in ("FAIL", "UNEXPECTEDPASS", "TIMEOUT", "ERROR"))
print(f"tests: {passed} passed, {failed} failed, {counts['SKIP']} skipped")
PY
}

main_job() {
    # The forwarder on its embedded default: two net_null ports (or the bound
    # NICs), one worker per isolated CPU (here: every CPU but the first), for
    # about 10 s with live stats and a summary. Arguments go to qc-fwd.
    "$BUILD_DIR/tools/qc-fwd/qc-fwd" --duration 10 "$@"
}

cmd=${1:-run}
[[ $# -gt 0 ]] && shift

install_missing_packages
case "$cmd" in
run)
    configure_and_build "$BUILD_DIR"
    main_job "$@"
    ;;
test)
    configure_and_build "$BUILD_DIR"
    status=0
    logs=("$BUILD_DIR/meson-logs/testlog.json")
    rm -f "$BUILD_DIR/meson-logs/testlog.json" "$ASAN_DIR/meson-logs/testlog.json"
    meson test -C "$BUILD_DIR" --print-errorlogs "$@" || status=$?
    if [[ $# -eq 0 ]]; then
        configure_and_build "$ASAN_DIR" -Db_sanitize=address,undefined -Db_lundef=false
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            meson test -C "$ASAN_DIR" --print-errorlogs --suite unit --suite dpdk --suite sanitized ||
            status=$?
        logs+=("$ASAN_DIR/meson-logs/testlog.json")
    fi
    summarize_tests "${logs[@]}"
    exit "$status"
    ;;
asan)
    configure_and_build "$ASAN_DIR" -Db_sanitize=address,undefined -Db_lundef=false
    [[ $# -eq 0 ]] && set -- --suite unit
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 meson test -C "$ASAN_DIR" --print-errorlogs "$@"
    ;;
bench)
    configure_and_build "$BUILD_DIR"
    meson test -C "$BUILD_DIR" --benchmark --verbose "$@"
    ;;
*)
    # Anything else is passed to the main job as its arguments.
    configure_and_build "$BUILD_DIR"
    main_job "$cmd" "$@"
    ;;
esac
