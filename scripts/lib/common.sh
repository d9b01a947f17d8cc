# Shared by the scripts: project paths, prerequisite installs, build-on-first-use, test summaries.
# shellcheck shell=bash

SPLITKERNEL_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
JVM_OPTIONS_FILE="$SPLITKERNEL_HOME/native-config/jvm.options"
MONITORS_JAR="$SPLITKERNEL_HOME/monitors/target/splitkernel.jar"
BENCH_JAR="$SPLITKERNEL_HOME/bench/target/benchmarks.jar"

die() { echo "error: $*" >&2; exit 2; }

# progress DONE TOTAL LABEL: on a terminal (stderr, CI not true) a bar redrawn in place, ended by a newline when DONE
# reaches TOTAL; elsewhere one plain line per call.
progress() {
  local done=$1 total=$2 label=$3 width=30 filled
  if [ -t 2 ] && [ "${CI:-}" != true ] && [ "${TERM:-dumb}" != dumb ]; then
    filled=$(( total > 0 ? done * width / total : width ))
    printf '\r\033[K[%s%s] %d/%d %s' "$(printf '%*s' "$filled" '' | tr ' ' '#')" \
      "$(printf '%*s' "$((width - filled))" '' | tr ' ' '.')" "$done" "$total" "$label" >&2
    [ "$done" -ge "$total" ] && echo >&2
  else
    echo "[$done/$total] $label" >&2
  fi
  return 0
}

# progress_watch TOTAL PIDS FILE...: the progress of work done elsewhere (a guest's start) that writes its steps into
# FILEs, each holding "STEPS LABEL" (a missing file counts 0): their sum against TOTAL, drawn by 'progress' whenever it
# changes, polled every ${PROGRESS_POLL_S:-1} s, until it reaches TOTAL or none of PIDS (blank-separated) is alive.
progress_watch() {
  local total=$1 pids=$2 shown=-1 sum label line f alive p n
  shift 2
  while :; do
    sum=0 label=""
    for f in "$@"; do
      line=$(cat "$f" 2>/dev/null) || line=""
      if [[ "$line" =~ ^([0-9]+)\ (.*)$ ]]; then n=${BASH_REMATCH[1]} line=${BASH_REMATCH[2]}; else n=0 line=waiting; fi
      sum=$((sum + n)) label+="${label:+, }$line"
    done
    if [ "$sum" -ne "$shown" ]; then shown=$sum; progress "$sum" "$total" "$label"; fi
    [ "$sum" -lt "$total" ] || return 0
    alive=0
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 1 ] || { [ -t 2 ] && [ "${CI:-}" != true ] && echo >&2; return 0; }
    sleep "${PROGRESS_POLL_S:-1}"
  done
}

# Java 17+, Maven, gcc and make are the build prerequisites; install them from Debian when missing (we are root in CI).
ensure_build_tools() {
  local missing=()
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  # gcc and make build the preload library of 'splitkernel exec' and its C test programs (static ones need libc.a).
  { command -v gcc && command -v make && [ -f /usr/lib/x86_64-linux-gnu/libc.a ]; } >/dev/null 2>&1 \
    || missing+=(build-essential)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      die "missing ${missing[*]}: install them (apt-get install ${missing[*]}) and try again"
    fi
    echo "installing ${missing[*]} from Debian" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# Installs the Debian packages named that are not installed yet (as root; otherwise names them and fails).
# --no-install-recommends: QEMU's recommends alone pull in hundreds of megabytes of desktop libraries.
ensure_debian_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages: ${missing[*]}; install them (apt-get install --no-install-recommends ${missing[*]})"
  echo "installing from Debian: ${missing[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# What a Soft-RoCE guest needs on the host (QEMU, a kernel with rdma_rxe, a static busybox for the initramfs, the
# verbs user space the guest shares through 9p) and what building libdisni needs.
SOFTROCE_VM_PACKAGES=(qemu-system-x86 qemu-utils linux-image-amd64 busybox-static kmod iproute2 cpio xz-utils zstd file
  rdma-core libibverbs1 librdmacm1 ibverbs-providers ibverbs-utils rdmacm-utils perftest)
LIBDISNI_BUILD_PACKAGES=(libibverbs-dev librdmacm-dev autoconf automake libtool make gcc g++ build-essential)

# Build the jars the scripts run, once; later calls reuse them until the sources change.
ensure_built() {
  local jar=$1
  local newest
  newest=$(find "$SPLITKERNEL_HOME" -path '*/src/main/*' -newer "$jar" -print -quit 2>/dev/null || true)
  if [ ! -f "$jar" ] || [ -n "$newest" ] || [ "$SPLITKERNEL_HOME/pom.xml" -nt "$jar" ]; then
    # A Soft-RoCE guest has no route out and an emulated CPU: it runs what the host built, never builds.
    [ -z "${SPLITKERNEL_NO_BUILD:-}" ] || die "$jar is missing or older than the sources: build on the host first (mvn -DskipTests install)"
    ensure_build_tools
    echo "building Splitkernel (first use or sources changed)..." >&2
    (cd "$SPLITKERNEL_HOME" && mvn -B -q -DskipTests install) >&2 || die "build failed; run 'mvn -DskipTests install' to see why"
  fi
}

# Prints why system tests cannot run here and returns 0; returns 1 when they can.
system_tests_unavailable() {
  if [ "$(id -u)" -ne 0 ]; then echo "not root: network namespaces need root"; return 0; fi
  if ! command -v ip >/dev/null 2>&1; then echo "iproute2 ('ip') not installed"; return 0; fi
  local probe="sk-probe-$$"
  if ! ip netns add "$probe" >/dev/null 2>&1; then echo "'ip netns add' is not permitted here"; return 0; fi
  ip netns del "$probe" >/dev/null 2>&1 || true
  return 1
}

# Totals over the Surefire report files named on stdin, one a line: "TESTS FAILED SKIPPED" (failed = failures + errors).
surefire_totals() {
  local tests=0 failed=0 skipped=0 f t fl er sk
  while IFS= read -r f; do
    t=$(grep -o 'tests="[0-9]*"' "$f" | head -1 | tr -dc 0-9)
    fl=$(grep -o 'failures="[0-9]*"' "$f" | head -1 | tr -dc 0-9)
    er=$(grep -o 'errors="[0-9]*"' "$f" | head -1 | tr -dc 0-9)
    sk=$(grep -o 'skipped="[0-9]*"' "$f" | head -1 | tr -dc 0-9)
    tests=$((tests + ${t:-0})); failed=$((failed + ${fl:-0} + ${er:-0})); skipped=$((skipped + ${sk:-0}))
  done
  echo "$tests $failed $skipped"
}

# One closing line over every module's Surefire reports.
summarize_surefire_reports() {
  local tests failed skipped
  read -r tests failed skipped < <(find "$SPLITKERNEL_HOME" -path '*/target/surefire-reports/TEST-*.xml' 2>/dev/null | surefire_totals)
  echo "$((tests - failed - skipped)) passed, $failed failed, $skipped skipped"
}
