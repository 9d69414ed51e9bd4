#!/usr/bin/env bash
# quietcore's one entry point, for a fresh Debian 12 machine as root.
#
#   ./run.sh                  install what is missing, build, run the main job
#   ./run.sh test [ARGS...]   same set-up, then the meson test suites
#                             (ARGS go to `meson test`, e.g. --suite unit);
#                             with no ARGS also the unit, dpdk and sanitized
#                             (route churn under traffic) suites under ASan+UBSan
#                             and the arm64 cross build's suites: cross-arm64 under
#                             qemu-aarch64-static, kernel-arm64 in the booted arm64
#                             guest; with --suite cross-arm64/kernel-arm64 only that
#   ./run.sh asan [ARGS...]   only the sanitizer build's tests (default: unit suite)
#   ./run.sh cross [ARGS...]  only the arm64 cross build's tests (default: cross-arm64)
#   ./run.sh bench [ARGS...]  the Google Benchmark micro-benchmarks
#
# Re-running on a built tree is quick: packages are checked with dpkg-query
# (no apt call when nothing is missing) and ninja rebuilds incrementally.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

BUILD_DIR=${QC_BUILD_DIR:-build}
ASAN_DIR=${QC_ASAN_DIR:-build-asan}
CROSS_DIR=${QC_CROSS_DIR:-build-arm64}
CROSS_FILE=tools/cross/aarch64-linux-gnu.ini

# Every Debian package the project needs, build and test time alike.
PACKAGES=(
    # toolchain and build (ccache: a rebuild in a fresh clone, as CI makes,
    # compiles only what changed)
    g++ meson ninja-build pkg-config clang-format ccache
    # libraries (DESIGN.md "Chosen dependencies")
    libdpdk-dev dpdk libhwloc-dev hwloc libnuma-dev liburcu-dev libseccomp-dev
    libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libtomlplusplus-dev
    nlohmann-json3-dev libspdlog-dev libfmt-dev prometheus-cpp-dev libcivetweb-dev
    # DPDK linked statically (meson_options.txt): `pkg-config --static libdpdk`
    # names -lsystemd, which libdpdk-dev does not pull in
    libsystemd-dev
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
    # the arm64 cross build (tools/cross): the cross compiler (its libc and
    # libstdc++ come along; every other arm64 library is unpacked into a
    # sysroot by tools/cross/prepare-arm64-sysroot, never installed), and the
    # user-mode emulator that runs the cross-arm64 suite
    g++-aarch64-linux-gnu qemu-user-static
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

# meson puts ccache in front of the native compilers when it is on PATH; the
# cross build gets it from tools/cross/ccache.ini. One cache for every clone:
# the build directory's path is left out of the hash (meson passes sources
# and include directories relative to it), so a fresh clone of an unchanged
# tree takes every object from the cache.
export CCACHE_DIR=${CCACHE_DIR:-/var/cache/quietcore/ccache}
export CCACHE_NOHASHDIR=true
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}

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

# The arm64 cross build: the sysroot (cached; quick when unchanged), then
# build-arm64 configured with the cross file.
configure_and_build_cross() {
    tools/cross/prepare-arm64-sysroot
    local ccache_file=()
    command -v ccache >/dev/null && ccache_file=(--cross-file tools/cross/ccache.ini)
    configure_and_build "$CROSS_DIR" --cross-file "$CROSS_FILE" "${ccache_file[@]}"
}

# True when the meson test arguments ask for a suite of the arm64 cross
# build: cross-arm64 or kernel-arm64 (the arm64 guest runs its binaries).
wants_cross_suite() {
    local a
    for a in "$@"; do
        case $a in
        cross-arm64 | --suite=cross-arm64 | kernel-arm64 | --suite=kernel-arm64) return 0 ;;
        esac
    done
    return 1
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
    status=0
    logs=()
    rm -f "$BUILD_DIR/meson-logs/testlog.json" "$ASAN_DIR/meson-logs/testlog.json" \
        "$CROSS_DIR/meson-logs/testlog.json"
    if [[ $# -eq 0 ]] || ! wants_cross_suite "$@"; then
        configure_and_build "$BUILD_DIR"
        meson test -C "$BUILD_DIR" --print-errorlogs "$@" || status=$?
        logs+=("$BUILD_DIR/meson-logs/testlog.json")
    fi
    if [[ $# -eq 0 ]]; then
        configure_and_build "$ASAN_DIR" -Db_sanitize=address,undefined -Db_lundef=false
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            meson test -C "$ASAN_DIR" --print-errorlogs --suite unit --suite dpdk --suite sanitized ||
            status=$?
        logs+=("$ASAN_DIR/meson-logs/testlog.json")
    fi
    if [[ $# -eq 0 ]] || wants_cross_suite "$@"; then
        configure_and_build_cross
        [[ $# -eq 0 ]] && set -- --suite cross-arm64 --suite kernel-arm64
        meson test -C "$CROSS_DIR" --print-errorlogs "$@" || status=$?
        logs+=("$CROSS_DIR/meson-logs/testlog.json")
    fi
    summarize_tests "${logs[@]}"
    exit "$status"
    ;;
asan)
    configure_and_build "$ASAN_DIR" -Db_sanitize=address,undefined -Db_lundef=false
    [[ $# -eq 0 ]] && set -- --suite unit
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 meson test -C "$ASAN_DIR" --print-errorlogs "$@"
    ;;
cross)
    configure_and_build_cross
    [[ $# -eq 0 ]] && set -- --suite cross-arm64
    meson test -C "$CROSS_DIR" --print-errorlogs "$@"
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
