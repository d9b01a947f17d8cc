# Outside references for scripts/bench transport, measured on this machine just before the JMH run so that the
# ratios compare figures from one run: a Redis GET of a 4 KB value (one client), the kernel's TCP round trip
# (qperf tcp_lat) and, where an RDMA device is ACTIVE, perftest's raw verbs latencies on it (ib_read_lat,
# ib_send_lat). Each is optional: without the tool the ratio prints "n/a" and says how to install it.
# shellcheck shell=bash

# Prints -Dsplitkernel.reference.NAME=MICROS arguments for BenchMain; messages go to stderr.
measure_transport_references() {
  local quick=$1 requests=100000 seconds=5
  if [ "$quick" = 1 ]; then requests=5000; seconds=1; fi
  measure_redis_get "$requests"
  measure_qperf_round_trip "$seconds"
  measure_perftest_latency "$((requests / 5))"
}

# perftest through rdma_cm (-R, as the fabric connects) on the first ACTIVE RDMA device, to its own address: the
# same device and path the rdma fabric benchmark uses. t_typical is perftest's median.
measure_perftest_latency() {
  local iterations=$1 device netdev address
  read -r device netdev < <(rdma link show 2>/dev/null | awk '$4 == "ACTIVE" {
      for (i = 1; i < NF; i++) if ($i == "netdev") { sub("/.*", "", $2); print $2, $(i + 1); exit } }') || true
  if [ -z "${device:-}" ]; then
    echo "reference: no ACTIVE RDMA device: perftest ratios skipped" >&2
    return 0
  fi
  if ! command -v ib_read_lat >/dev/null 2>&1 || ! command -v ib_send_lat >/dev/null 2>&1; then
    echo "reference: perftest not installed (apt-get install perftest): raw verbs ratios skipped" >&2
    return 0
  fi
  address=$(ip -4 -o addr show dev "$netdev" | awk '{ sub("/.*", "", $4); print $4; exit }')
  perftest_median ib_read_lat 8 ibReadLat8BUs
  perftest_median ib_read_lat 4096 ibReadLat4kUs
  # A send round trip needs both processes on a CPU: on a guest whose emulated CPUs share one host thread a
  # round trip took 8 ms (ib_read_lat's 4 KB: 57 us), so a tenth of the iterations keeps it within its time limit.
  iterations=$(( iterations / 10 > 100 ? iterations / 10 : 100 ))
  perftest_median ib_send_lat 128 ibSendLat128BUs
}

perftest_median() {   # tool size name (uses device, address, iterations from the caller)
  local tool=$1 size=$2 name=$3 port server median
  port=$((20000 + RANDOM % 20000))
  timeout 120 "$tool" -R -d "$device" -p "$port" -s "$size" -n "$iterations" >/dev/null 2>&1 &
  server=$!
  sleep 1
  # A tool that fails or hits its time limit leaves median empty (reported below), never ends the caller.
  median=$(timeout 120 "$tool" -R -d "$device" -p "$port" -s "$size" -n "$iterations" "$address" 2>/dev/null \
    | awk -v size="$size" '$1 == size && NF >= 5 { print $5; exit }' || true)
  wait "$server" 2>/dev/null || true
  if [ -n "$median" ]; then
    echo "reference: $tool $size B on $device, t_typical = $median us ($tool -R -d $device -s $size -n $iterations)" >&2
    echo "-Dsplitkernel.reference.$name=$median"
  else
    echo "reference: $tool $size B on $device gave no figure within 120 s: its ratio skipped" >&2
  fi
}

measure_redis_get() {
  local requests=$1
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-benchmark >/dev/null 2>&1; then
    echo "reference: Redis not installed (apt-get install redis-server redis-tools): Redis ratio skipped" >&2
    return 0
  fi
  local dir port p50 i
  dir=$(mktemp -d)
  port=$((20000 + RANDOM % 20000))
  if ! redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
      --daemonize yes --pidfile "$dir/redis.pid" >/dev/null 2>&1; then
    echo "reference: redis-server did not start on 127.0.0.1:$port: Redis ratio skipped" >&2
    rm -rf "$dir"; return 0
  fi
  for i in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  # CSV columns: test, rps, avg, min, p50, p95, p99, max (milliseconds).
  p50=$(timeout 120 redis-benchmark -h 127.0.0.1 -p "$port" -t get -d 4096 -c 1 -n "$requests" --csv 2>/dev/null \
    | awk -F'","' '/^"GET/ { print $5 * 1000 }')
  kill "$(cat "$dir/redis.pid" 2>/dev/null)" 2>/dev/null || true
  sleep 0.2; rm -rf "$dir"
  if [ -n "$p50" ]; then
    echo "reference: Redis GET 4 KB, 1 client, p50 = $p50 us (redis-benchmark -t get -d 4096 -c 1 -n $requests)" >&2
    echo "-Dsplitkernel.reference.redisGet4kUs=$p50"
  else
    echo "reference: redis-benchmark gave no figure: Redis ratio skipped" >&2
  fi
}

measure_qperf_round_trip() {
  local seconds=$1
  if ! command -v qperf >/dev/null 2>&1; then
    echo "reference: qperf not installed (apt-get install qperf): kernel TCP round-trip ratio skipped" >&2
    return 0
  fi
  local port one_way server
  port=$((20000 + RANDOM % 20000))
  qperf --listen_port "$port" >/dev/null 2>&1 &
  server=$!
  sleep 0.3
  # qperf prints the one-way latency (half the round trip): "latency = 8.92 us" (or ms).
  one_way=$(timeout 60 qperf -lp "$port" -t "$seconds" -m 4096 127.0.0.1 tcp_lat 2>/dev/null \
    | awk '/latency/ { v = $3; if ($4 == "ms") v = v * 1000; if ($4 == "ns") v = v / 1000; print v }')
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  if [ -n "$one_way" ]; then
    local rtt
    rtt=$(awk -v v="$one_way" 'BEGIN { print v * 2 }')
    echo "reference: kernel TCP 4 KB round trip = $rtt us (qperf tcp_lat one-way $one_way us x 2)" >&2
    echo "-Dsplitkernel.reference.qperfRoundTrip4kUs=$rtt"
  else
    echo "reference: qperf gave no figure: kernel TCP ratio skipped" >&2
  fi
}
