#!/usr/bin/env bash
# Starts a Hearth worker for the scheduler at --scheduler-endpoint, after checking what most often
# keeps one from working, and inside Linux namespaces of its own when the kernel allows it.
#
#   ./worker-wrapper.sh --scheduler-endpoint http://localhost:50052 [--config worker.json] [...]
#   ./worker-wrapper.sh --check-only --scheduler-endpoint http://localhost:50052
#
# Every argument except --check-only is passed to `hearth worker` unchanged. See README.md.
#
# Which Hearth it runs (the first that is set):
#   HEARTH_LAUNCHER  an executable that takes hearth's arguments (`$HEARTH_LAUNCHER worker ...`)
#   HEARTH_HOME      a Hearth checkout; runs $HEARTH_HOME/hearth, which builds the jar on first use
#   (neither)        the checkout this script lives in: ../../hearth relative to this file
#
# Tunables (environment):
#   HEARTH_WRAPPER_WARN_MEMORY_MB  warn below this much available memory (default 2048)
#   HEARTH_WRAPPER_MIN_MEMORY_MB   refuse to start below this much (default 512)
#   HEARTH_WRAPPER_CONNECT_TIMEOUT seconds to wait for the endpoint to accept a connection (default 5)
#   HEARTH_WRAPPER_ISOLATE         "0" starts the worker without namespaces (default 1)
set -euo pipefail

readonly me="worker-wrapper"
script_path="${BASH_SOURCE[0]}"
[[ "$script_path" == */* ]] || script_path="./$script_path"
script_dir="$(cd "${script_path%/*}" && pwd)"

check_only=0
endpoint=""
worker_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --check-only) check_only=1 ;;
    --scheduler-endpoint=*) endpoint="${1#*=}"; worker_args+=("$1") ;;
    --scheduler-endpoint)
      if [ $# -lt 2 ]; then
        echo "$me: --scheduler-endpoint needs a URL, such as http://localhost:50052" >&2
        exit 2
      fi
      endpoint="$2"; worker_args+=("$1" "$2"); shift ;;
    *) worker_args+=("$1") ;;
  esac
  shift
done
if [ -z "$endpoint" ]; then
  echo "$me: missing --scheduler-endpoint; pass the server's address, such as" \
    "--scheduler-endpoint http://localhost:50052" >&2
  exit 2
fi

failures=0
fail() { echo "$me: FAIL: $*" >&2; failures=$((failures + 1)); }
warn() { echo "$me: WARN: $*" >&2; }
info() { echo "$me: $*" >&2; }

# Java 17 or newer on PATH: the worker, and the tools it keeps warm, run on it.
check_java() {
  if ! command -v java >/dev/null 2>&1; then
    fail "no 'java' on PATH; install a JDK 17 or newer (apt-get install openjdk-17-jdk-headless)" \
      "or add its bin directory to PATH"
    return
  fi
  local line version major
  line="$(java -version 2>&1 || true)"
  line="${line%%$'\n'*}"
  version="${line#*\"}"
  version="${version%%\"*}"
  major="${version%%.*}"
  if [ "$major" = "1" ]; then # 1.8.0_392 and older spell the major version second
    major="${version#1.}"
    major="${major%%.*}"
  fi
  if ! [[ "$major" =~ ^[0-9]+$ ]]; then
    fail "cannot read the Java version from 'java -version' ($line); make 'java' on PATH a JDK 17" \
      "or newer"
  elif [ "$major" -lt 17 ]; then
    fail "'java' on PATH is version $version; Hearth needs 17 or newer: install a JDK 17 and put" \
      "it first on PATH"
  fi
}

# The launcher must be there and executable; hearth builds its jar with mvnw on first use.
launcher=""
check_launcher() {
  if [ -n "${HEARTH_LAUNCHER:-}" ]; then
    launcher="$HEARTH_LAUNCHER"
  elif [ -n "${HEARTH_HOME:-}" ]; then
    launcher="$HEARTH_HOME/hearth"
  else
    launcher="$(cd "$script_dir/../.." && pwd)/hearth"
  fi
  if [ ! -e "$launcher" ]; then
    fail "no Hearth launcher at $launcher; set HEARTH_HOME to a Hearth checkout or" \
      "HEARTH_LAUNCHER to the hearth executable"
  elif [ ! -f "$launcher" ] || [ ! -r "$launcher" ]; then
    fail "cannot read the Hearth launcher $launcher; fix its permissions: chmod a+r $launcher"
  elif [ ! -x "$launcher" ]; then
    fail "the Hearth launcher $launcher is not executable; run: chmod +x $launcher"
  fi
}

# Persistent workers keep tool processes (a JVM each, for javac) resident between actions.
check_memory() {
  local warn_mb="${HEARTH_WRAPPER_WARN_MEMORY_MB:-2048}" min_mb="${HEARTH_WRAPPER_MIN_MEMORY_MB:-512}"
  local key value unit available_kb=""
  if [ ! -r /proc/meminfo ]; then
    warn "cannot read /proc/meminfo; not checking free memory"
    return
  fi
  while read -r key value unit; do
    if [ "$key" = "MemAvailable:" ]; then
      available_kb="$value"
      break
    fi
  done </proc/meminfo
  if [ -z "$available_kb" ]; then
    warn "/proc/meminfo has no MemAvailable (kernel older than 3.14); not checking free memory"
    return
  fi
  local available_mb=$((available_kb / 1024))
  if [ "$available_mb" -lt "$min_mb" ]; then
    fail "only ${available_mb} MiB of memory available, below the minimum of ${min_mb} MiB; free" \
      "memory, or lower slots and persistentWorkers.maxProcessesPerKey in the worker's config" \
      "(HEARTH_WRAPPER_MIN_MEMORY_MB sets the minimum)"
  elif [ "$available_mb" -lt "$warn_mb" ]; then
    warn "only ${available_mb} MiB of memory available (below ${warn_mb} MiB); persistent" \
      "workers may be retired for memory: consider lower maxProcessesPerKey or a memoryLimit" \
      "(HEARTH_WRAPPER_WARN_MEMORY_MB sets this threshold)"
  fi
}

# The worker API is on the server's gRPC port; a plain TCP connection proves it is reachable.
check_endpoint() {
  local rest host port timeout_s="${HEARTH_WRAPPER_CONNECT_TIMEOUT:-5}"
  rest="${endpoint#*://}"
  rest="${rest%%/*}"
  if [[ "$rest" =~ ^\[(.*)\]:([0-9]+)$ ]] || [[ "$rest" =~ ^([^:]+):([0-9]+)$ ]]; then
    host="${BASH_REMATCH[1]}"
    port="${BASH_REMATCH[2]}"
  elif [[ "$endpoint" =~ ^(https|grpcs):// ]]; then
    host="${rest#[}"
    host="${host%]}"
    port=443
  else
    fail "cannot read host and port from --scheduler-endpoint $endpoint; write it as" \
      "http://HOST:PORT, such as http://localhost:50052"
    return
  fi
  local probe="exec 3<>/dev/tcp/$host/$port"
  local ok=1
  if command -v timeout >/dev/null 2>&1; then
    timeout "$timeout_s" "$BASH" -c "$probe" 2>/dev/null || ok=0
  else
    "$BASH" -c "$probe" 2>/dev/null || ok=0
  fi
  if [ "$ok" = 0 ]; then
    fail "cannot connect to $host:$port (from --scheduler-endpoint $endpoint) within" \
      "${timeout_s}s; start the server first (hearth serve hearth-config.json) and check the" \
      "host, the port and any firewall between"
  fi
}

check_java
check_launcher
check_memory
check_endpoint
if [ "$failures" -gt 0 ]; then
  echo "$me: $failures check(s) failed; the worker was not started" >&2
  exit 1
fi
if [ "$check_only" = 1 ]; then
  info "all checks passed"
  exit 0
fi

command=("$launcher" worker "${worker_args[@]}")

# Namespaces: the worker and every process it starts get their own mount, pid, ipc and uts
# namespaces and an empty private /tmp, so they cannot see or signal other processes of the
# host, nor read what other programs leave in /tmp. Root needs no user namespace; others map
# themselves to root inside one.
in_namespace='mount -t tmpfs -o mode=1777 hearth-tmp /tmp && exec "$@"'
private_tmp=" with a private /tmp"
# A private /tmp would hide the launcher or the worker's config if they live there.
config_file=""
for ((i = 0; i < ${#worker_args[@]}; i++)); do
  case "${worker_args[$i]}" in
    --config=*) config_file="${worker_args[$i]#*=}" ;;
    --config) config_file="${worker_args[$((i + 1))]:-}" ;;
  esac
done
for file in "$launcher" "$config_file"; do
  if [ -n "$file" ] && [[ "$(cd "$(dirname -- "$file")" 2>/dev/null && pwd -P)/" == /tmp/* ]]; then
    info "keeping the host's /tmp for the worker: $file is under /tmp; move it elsewhere to give" \
      "the worker a private /tmp"
    in_namespace='exec "$@"'
    private_tmp=""
  fi
done
namespaces=()
if [ "${HEARTH_WRAPPER_ISOLATE:-1}" = "0" ]; then
  info "HEARTH_WRAPPER_ISOLATE=0: starting the worker without namespaces"
elif ! command -v unshare >/dev/null 2>&1; then
  info "starting the worker without namespaces: 'unshare' is not installed (package util-linux)"
else
  base=(unshare --mount --pid --ipc --uts --fork --mount-proc --kill-child)
  attempts=()
  if [ "$EUID" = "0" ]; then
    attempts+=("plain")
  fi
  attempts+=("user")
  why=""
  for attempt in "${attempts[@]}"; do
    candidate=("${base[@]}")
    if [ "$attempt" = "user" ]; then
      candidate=(unshare --map-root-user --user "${base[@]:1}")
    fi
    if why="$("${candidate[@]}" "$BASH" -c "$in_namespace" probe true 2>&1)"; then
      namespaces=("${candidate[@]}")
      break
    fi
  done
  if [ ${#namespaces[@]} -eq 0 ]; then
    why="${why//$'\n'/ }"
    info "starting the worker without namespaces: the kernel refused them (${why:-no reason" \
      "given}); allow unprivileged user namespaces or run as root to isolate it"
  fi
fi

if [ ${#namespaces[@]} -eq 0 ]; then
  exec "${command[@]}"
fi

info "starting the worker in its own mount, pid, ipc and uts namespaces${private_tmp}"
# unshare --fork stays in between and ignores SIGTERM, so this shell stays too and hands each
# stop signal to the worker (unshare's child), which then drains; its exit status is ours.
"${namespaces[@]}" "$BASH" -c "$in_namespace" hearth-worker "${command[@]}" &
holder=$!
forward() {
  local child children=()
  read -r -a children 2>/dev/null <"/proc/$holder/task/$holder/children" || true
  for child in "${children[@]}"; do
    kill -TERM "$child" 2>/dev/null || true
  done
}
trap forward TERM INT HUP
while true; do
  status=0
  wait "$holder" || status=$?
  if ! kill -0 "$holder" 2>/dev/null; then
    exit "$status"
  fi
done
