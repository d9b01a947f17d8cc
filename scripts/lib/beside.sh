# scripts/bench beside: the main job N times while another Maven build runs beside it, and the tally.
# Sourced by scripts/bench after common.sh; runs in the project's home.
# shellcheck shell=bash

beside_usage() {
  echo "usage: scripts/bench beside [--quick] [--runs N] [--timeout SECONDS] [-- RUN_OPTIONS]"
  echo "  Runs the main job (scripts/splitkernel run RUN_OPTIONS) N times (default 10) while a Maven build of a copy"
  echo "  of this tree runs beside it in a loop (clean package, offline, tests skipped), and prints how many runs"
  echo "  completed and verified: the target is N of N. Each run is stopped after --timeout seconds (default 1800)."
  echo "  --quick   one short run (random, 4 MiB, 25%, preset none): proves the mode works"
}

# Stop the beside build's process group (it was started here), wait until all of it is gone, remove the copy.
beside_stop() {
  kill -- "-$BESIDE_BUILDER" 2>/dev/null || true
  local waited=0
  while kill -0 -- "-$BESIDE_BUILDER" 2>/dev/null && [ "$waited" -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
  kill -KILL -- "-$BESIDE_BUILDER" 2>/dev/null || true
  rm -rf "$BESIDE_WORK"
}

beside_main() {
  local runs=10 timeout_s=1800 quick=0
  local run_options=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --quick) quick=1 ;;
      --runs) runs=${2:?--runs needs a number}; shift ;;
      --timeout) timeout_s=${2:?--timeout needs seconds}; shift ;;
      --) shift; run_options=("$@"); break ;;
      -h|--help) beside_usage; return 0 ;;
      *) beside_usage >&2; return 2 ;;
    esac
    shift
  done
  case "$runs$timeout_s" in *[!0-9]*) die "--runs and --timeout take whole numbers" ;; esac
  [ "$runs" -ge 1 ] || die "--runs must be at least 1"
  if [ "$quick" -eq 1 ]; then
    runs=1
    [ ${#run_options[@]} -gt 0 ] || run_options=(--workload random --sizes 25 --working-set 4m --preset none)
  fi
  ensure_built "$MONITORS_JAR"

  local work
  work=$(mktemp -d /tmp/splitkernel-beside.XXXXXX)
  # The beside build works on a copy, so it never touches the jars the runs use.
  tar --exclude=./.git --exclude='*/target' --exclude=./results -C "$SPLITKERNEL_HOME" -cf - . | tar -C "$work" -xf -
  mkdir -p "$work/out"
  # The runs use a copy of the jar too: a build in this tree meanwhile (scripts/test) may rewrite the original.
  cp "$MONITORS_JAR" "$work/splitkernel.jar"
  : > "$work/builds"
  # Its own process group, so that it and its Maven children stop together at the end.
  setsid bash -c 'cd "$1" && while :; do
      if mvn -B -q -o -DskipTests clean package >build.log 2>&1; then echo ok >>builds; else echo failed >>builds; sleep 1; fi
    done' beside-build "$work" &
  BESIDE_BUILDER=$! BESIDE_WORK=$work
  trap beside_stop EXIT
  local builder=$BESIDE_BUILDER
  echo "beside build: Maven looping on a copy of the tree in $work (process group $builder)"

  local passed=0 i code start took
  for ((i = 1; i <= runs; i++)); do
    start=$(date +%s)
    code=0
    SPLITKERNEL_CLASSPATH="$work/splitkernel.jar" timeout "$timeout_s" "$SPLITKERNEL_HOME/scripts/splitkernel" run "${run_options[@]}" --out "$work/out" \
      >"$work/run-$i.log" 2>&1 || code=$?
    took=$(($(date +%s) - start))
    if [ "$code" -eq 0 ] && grep -q verified "$work/run-$i.log"; then
      passed=$((passed + 1))
      echo "run $i/$runs: completed and verified in ${took}s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    else
      cp "$work/run-$i.log" "/tmp/splitkernel-beside-run-$i.log"
      echo "run $i/$runs: FAILED (exit $code after ${took}s; log /tmp/splitkernel-beside-run-$i.log):"
      tail -5 "$work/run-$i.log" | sed 's/^/  /'
    fi
  done
  local ok failed
  ok=$(grep -c ok "$work/builds" || true)
  failed=$(grep -c failed "$work/builds" || true)
  [ "$failed" -eq 0 ] || echo "beside build: $failed builds failed (last log: $(tail -3 "$work/build.log" | tr '\n' ' '))"
  echo "main job: $passed of $runs runs completed and verified while a Maven build ran beside it" \
    "($ok beside builds finished meanwhile; options: ${run_options[*]:-the defaults})"
  [ "$passed" -eq "$runs" ]
}
