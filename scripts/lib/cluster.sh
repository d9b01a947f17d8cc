# Cluster files (the format is documented in native-config/cluster.example and in ClusterFile.java), read the same
# way as the Java side: words separated by blanks, '#' starts a comment. Shared by scripts/cluster and scripts/testbed.
# shellcheck shell=bash

# Parse CLUSTER_FILE into CL_* globals: CL_FABRIC CL_SECRET CL_HOME CL_CONFIG CL_TIMEOUT_MS, and per member i:
# CL_ROLE[i] CL_NAME[i] CL_HOST[i] CL_PORT[i] CL_FLAGS[i]; CL_GLOBAL is the global member's host:port.
# Dies naming the line on a malformed file.
cluster_parse() {
  local file=$1 n=0 line kind name host port flags
  [ -f "$file" ] || die "no cluster file $file (see native-config/cluster.example)"
  CL_FABRIC=tcp CL_SECRET="" CL_HOME="" CL_CONFIG=native-config/presets/tcp-cluster.properties CL_TIMEOUT_MS=""
  CL_ROLE=() CL_NAME=() CL_HOST=() CL_PORT=() CL_FLAGS=() CL_GLOBAL=""
  local seen=" "
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%%#*}
    read -r kind name host port flags <<<"$line" || true
    [ -z "${kind:-}" ] && continue
    case "$kind" in
      fabric) CL_FABRIC=$name ;;
      secret-file) CL_SECRET=$name ;;
      home) CL_HOME=$name ;;
      config) CL_CONFIG=$name ;;
      member-timeout-ms) CL_TIMEOUT_MS=$name ;;
      global|memory|processor|storage)
        [ -n "${port:-}" ] || die "$file:$n: a member line is 'ROLE NAME HOST PORT [flags]'"
        [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,11}$ ]] || die "$file:$n: member name '$name' must be 1-12 of [A-Za-z0-9_-]"
        [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "$file:$n: port '$port' must be 1 to 65535"
        case "$seen" in *" $name "*) die "$file:$n: member name '$name' is used twice" ;; esac
        seen="$seen$name "
        CL_ROLE+=("$kind") CL_NAME+=("$name") CL_HOST+=("$host") CL_PORT+=("$port") CL_FLAGS+=("${flags:-}")
        if [ "$kind" = global ]; then
          [ -z "$CL_GLOBAL" ] || die "$file:$n: a second 'global' line: exactly one is allowed"
          CL_GLOBAL="$host:$port"
        fi ;;
      *) die "$file:$n: unknown line kind '$kind' (fabric, secret-file, home, config, member-timeout-ms, global, memory, processor, storage)" ;;
    esac
  done <"$file"
  [ -n "$CL_GLOBAL" ] || die "$file: needs exactly one 'global' member line"
}

# The JVM options of member i (secret file, member timeout): as -D, never on the command line as flags of ours.
cluster_java_opts() {
  local i=$1 home=$2 opts=""
  if [ -n "$CL_SECRET" ]; then
    case "$CL_SECRET" in /*) opts="-Dsplitkernel.secretFile=$CL_SECRET" ;; *) opts="-Dsplitkernel.secretFile=$home/$CL_SECRET" ;; esac
  fi
  if [ -n "$CL_TIMEOUT_MS" ] && [ "${CL_ROLE[$i]}" = global ]; then
    opts="$opts -Dsplitkernel.global.memberTimeoutMs=$CL_TIMEOUT_MS"
  fi
  echo "$opts"
}

# The scripts/splitkernel arguments that start member i (the same as ClusterFile.commandOf in Java).
cluster_member_args() {
  local i=$1 args
  args="${CL_ROLE[$i]} --config $CL_CONFIG --fabric $CL_FABRIC --listen ${CL_HOST[$i]}:${CL_PORT[$i]}"
  [ "${CL_ROLE[$i]}" = global ] || args="$args --global $CL_GLOBAL"
  [ -z "${CL_FLAGS[$i]}" ] || args="$args ${CL_FLAGS[$i]}"
  echo "$args"
}

# Indexes of the members, the global managers first (the others register with them at start).
cluster_order() {
  local i
  for i in "${!CL_ROLE[@]}"; do [ "${CL_ROLE[$i]}" = global ] && echo "$i"; done
  for i in "${!CL_ROLE[@]}"; do [ "${CL_ROLE[$i]}" = global ] || echo "$i"; done
  return 0
}

# Wait until LOG shows 'listening at' (0), the process PID died (1), or TIMEOUT_S passed (2).
wait_listening() {
  local log=$1 pid=$2 timeout_s=$3 waited=0
  while [ "$waited" -lt $((timeout_s * 10)) ]; do
    grep -q "listening at" "$log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { grep -q "listening at" "$log" 2>/dev/null && return 0; return 1; }
    sleep 0.1
    waited=$((waited + 1))
  done
  return 2
}
