# scripts/bench stat-latency: how long `scripts/splitkernel stat --json` takes on a running three-monitor cluster.
# shellcheck shell=bash

stat_latency_usage() {
  cat <<'EOF'
usage: scripts/bench stat-latency [--calls N] [--keep-dir] [--dir DIR]
  Starts a three-monitor cluster as processes on loopback (tcp: global managers, one memory monitor, one
  processor monitor; scripts/splitkernel global|memory|processor), each writing its status file into a
  fresh directory (or --dir DIR), then times N calls (default 10) of `scripts/splitkernel stat --json --dir DIR`
  from start to exit (the whole CLI: JVM start, reading the files, JSON out), checks that each call's JSON
  lists the three monitors' JVMs (by pid) as running, prints every call's wall time, their median and max and the verdict against the
  target (within 1 s), and stops the cluster. Exit 1 when the JSON lacks a monitor or the max is over 1 s.
  --calls N     how many stat calls (default 10)
  --keep-dir    leave the monitors' logs and status files (where, printed) for a look afterwards
  --dir DIR     the monitors' status files go to DIR (e.g. the default /dev/shm/splitkernel-stat, with every
                other file there: stat reads them all), their logs to a fresh directory; afterwards only
                the three monitors' own files are removed from DIR
EOF
}

# stat_latency_start ROLE LOG ARGS...: one monitor in the background; its pid in STAT_LATENCY_PIDS.
stat_latency_start() {
  local role=$1 log=$2
  shift 2
  SPLITKERNEL_JAVA_OPTS="-Dsplitkernel.stat.dir=$STAT_LATENCY_DIR ${SPLITKERNEL_JAVA_OPTS:-}" \
    "$SPLITKERNEL_HOME/scripts/splitkernel" "$role" --fabric tcp --listen 127.0.0.1:0 "$@" >"$log" 2>&1 &
  STAT_LATENCY_PIDS+=("$!")
}

# stat_latency_address LOG: waits (up to 60 s) for 'listening at ADDRESS' in LOG and prints ADDRESS.
stat_latency_address() {
  local log=$1 deadline=$((SECONDS + 60)) address
  while [ "$SECONDS" -lt "$deadline" ]; do
    address=$(sed -n 's/.*listening at \([^ ]*\).*/\1/p' "$log" 2>/dev/null | head -1)
    if [ -n "$address" ]; then echo "$address"; return 0; fi
    sleep 0.2
  done
  echo "error: no 'listening at' in $log within 60 s:" >&2
  tail -5 "$log" >&2
  return 1
}

stat_latency_stop() {
  local p
  for p in "${STAT_LATENCY_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${STAT_LATENCY_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$STAT_LATENCY_KEEP" = 1 ]; then
    echo "logs kept in $STAT_LATENCY_LOGS, status files in $STAT_LATENCY_DIR"
  else
    rm -rf "$STAT_LATENCY_LOGS"
    [ "$STAT_LATENCY_DIR" = "$STAT_LATENCY_LOGS" ] || rm -f "${STAT_LATENCY_FILES[@]}"
  fi
}

stat_latency_main() {
  local calls=10 shared=""
  STAT_LATENCY_KEEP=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --calls) calls=${2:?--calls needs a number}; shift 2 ;;
      --keep-dir) STAT_LATENCY_KEEP=1; shift ;;
      --dir) shared=${2:?--dir needs a directory}; shift 2 ;;
      -h|--help) stat_latency_usage; return 0 ;;
      *) stat_latency_usage >&2; die "unknown option: $1" ;;
    esac
  done
  [[ "$calls" =~ ^[1-9][0-9]*$ ]] || die "--calls needs a positive number, got: $calls"
  ensure_built "$MONITORS_JAR"

  STAT_LATENCY_LOGS=$(mktemp -d /tmp/splitkernel-stat-latency.XXXXXX)
  STAT_LATENCY_DIR=${shared:-$STAT_LATENCY_LOGS}
  mkdir -p "$STAT_LATENCY_DIR"
  STAT_LATENCY_PIDS=()
  STAT_LATENCY_FILES=()
  trap stat_latency_stop EXIT
  local dir=$STAT_LATENCY_DIR logs=$STAT_LATENCY_LOGS global p
  stat_latency_start global "$logs/global.log"
  global=$(stat_latency_address "$logs/global.log") || return 1
  stat_latency_start memory "$logs/memory.log" --global "$global" --capacity 64m --vregion 64m
  stat_latency_start processor "$logs/processor.log" --global "$global" --excache 16m --vregion 64m
  stat_latency_address "$logs/memory.log" >/dev/null || return 1
  stat_latency_address "$logs/processor.log" >/dev/null || return 1
  # The files of these three JVMs (named ...-PID.stat; the scripts exec java, so the pids are the JVMs').
  for p in "${STAT_LATENCY_PIDS[@]}"; do STAT_LATENCY_FILES+=("$dir"/*-"$p".stat); done
  echo "cluster up: global managers at $global, memory and processor monitors" \
    "(status files in $dir: $(find "$dir" -maxdepth 1 -name '*.stat' | wc -l) there)"
  echo "load: $(uptime)"

  local i start end ms json missing=0 times=()
  for ((i = 1; i <= calls; i++)); do
    start=$(date +%s%N)
    json=$("$SPLITKERNEL_HOME/scripts/splitkernel" stat --json --dir "$dir") || { echo "error: stat failed" >&2; return 1; }
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
    times+=("$ms")
    # Each of the three JVMs listed, running: {"monitor":"ROLE HOST:PORT","state":"running","pid":PID,...}.
    for p in "${STAT_LATENCY_PIDS[@]}"; do
      if ! grep -Eq '"monitor":"(global|memory|processor) [^"]*","state":"running","pid":'"$p"'[,}]' <<<"$json"; then
        echo "call $i: the JSON does not list monitor pid $p as running" >&2
        missing=1
      fi
    done
    echo "call $i: ${ms} ms"
  done
  local sorted median max
  mapfile -t sorted < <(printf '%s\n' "${times[@]}" | sort -n)
  median=${sorted[$(( (calls - 1) / 2 ))]}
  max=${sorted[$((calls - 1))]}
  echo "stat --json of a running three-monitor cluster, $calls calls: median ${median} ms, max ${max} ms" \
    "(target: within 1000 ms)"
  echo "load: $(uptime)"
  if [ "$missing" -ne 0 ]; then echo "verdict: FAILED (a monitor missing from the JSON)"; return 1; fi
  if [ "$max" -gt 1000 ]; then echo "verdict: MISSED (max over 1 s)"; return 1; fi
  echo "verdict: met (every call within 1 s, all three monitors listed)"
}
