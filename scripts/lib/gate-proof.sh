# scripts/bench gate-proof: the performance gate N times on the unchanged tree and N times with each injected
# regression (system property splitkernel.inject.regression, test-only), and the tally.
# Sourced by scripts/bench after common.sh and ensure_built; runs in the project's home.
# shellcheck shell=bash

gate_proof_usage() {
  echo "usage: scripts/bench gate-proof [--quick] [--runs N] [--results DIR]"
  echo "  Runs scripts/bench gate N times (default 10) on the unchanged tree, then N times with each regression"
  echo "  injected on purpose: an extra message per miss, a slower ExCache hit path, one-sided re-fetch disabled,"
  echo "  an allocation per miss. The gate must pass every unchanged run and fail every injected one, naming the"
  echo "  metric the regression moves. Exit 0 when all of that held. --quick runs the quick gate."
}

# The metric (a suffix of its name) that each injected regression must make the gate fail on.
gate_proof_expected() {
  case "$1" in
    extra-message) echo messagesPerMiss ;;
    slow-hit) echo excache.hitOverPlainLoad ;;
    no-one-sided) echo oneSidedRefetches ;;
    alloc-per-miss) echo allocatedBytesPerMiss ;;
  esac
}

gate_proof_main() {
  local runs=10 quick=() results=results/gate-proof
  while [ $# -gt 0 ]; do
    case "$1" in
      --quick) quick=(--quick) ;;
      --runs) runs=${2:?--runs needs a number}; shift ;;
      --results) results=${2:?--results needs a folder}; shift ;;
      -h|--help) gate_proof_usage; return 0 ;;
      *) echo "error: unknown option $1" >&2; gate_proof_usage >&2; return 2 ;;
    esac
    shift
  done
  case "$runs" in ''|*[!0-9]*|0) echo "error: --runs must be a positive number" >&2; return 2 ;; esac
  mkdir -p "$results"
  local cases=(none extra-message slow-hit no-one-sided alloc-per-miss)
  declare -A good
  local c run out rc failed expected start=$SECONDS
  echo "gate-proof: $runs run(s) per case ${quick[*]:+(quick gate)}; load $(cut -d' ' -f1-3 /proc/loadavg)"
  for c in "${cases[@]}"; do good[$c]=0; done
  for run in $(seq 1 "$runs"); do
    for c in "${cases[@]}"; do
      out="$results/run$run-$c.log"
      rc=0
      if [ "$c" = none ]; then
        java "@$JVM_OPTIONS_FILE" -Dsplitkernel.home="$SPLITKERNEL_HOME" -cp "$BENCH_JAR" \
          dev.splitkernel.bench.gate.GateMain "${quick[@]}" --results "$results" >"$out" 2>&1 || rc=$?
      else
        java "@$JVM_OPTIONS_FILE" -Dsplitkernel.home="$SPLITKERNEL_HOME" -Dsplitkernel.inject.regression="$c" \
          -cp "$BENCH_JAR" dev.splitkernel.bench.gate.GateMain "${quick[@]}" --results "$results" >"$out" 2>&1 \
          || rc=$?
      fi
      failed=$(sed -n 's/^gate: FAILED: //p' "$out")
      if [ "$c" = none ]; then
        if [ "$rc" -eq 0 ]; then good[$c]=$((good[$c] + 1)); echo "run $run, unchanged tree: passed";
        else echo "run $run, unchanged tree: FALSE FAILURE (exit $rc: ${failed:-see $out})"; fi
      else
        expected=$(gate_proof_expected "$c")
        if [ "$rc" -eq 1 ] && [[ ", $failed," == *"$expected,"* ]]; then
          good[$c]=$((good[$c] + 1)); echo "run $run, injected $c: caught ($failed)"
        else
          echo "run $run, injected $c: NOT CAUGHT (exit $rc, failed: ${failed:-nothing}; expected $expected; $out)"
        fi
      fi
    done
  done
  echo
  echo "gate-proof tally ($runs run(s) per case, $((SECONDS - start)) s, load now $(cut -d' ' -f1-3 /proc/loadavg)):"
  printf '  %-34s %s\n' "unchanged tree: passed" "${good[none]} of $runs"
  local all=1
  [ "${good[none]}" -eq "$runs" ] || all=0
  for c in "${cases[@]:1}"; do
    printf '  %-34s %s\n' "$c: caught ($(gate_proof_expected "$c"))" "${good[$c]} of $runs"
    [ "${good[$c]}" -eq "$runs" ] || all=0
  done
  [ "$all" -eq 1 ]
}
