#!/usr/bin/env bash
# The anchor for the action sandbox's cost: Bazel's own --spawn_strategy=linux-sandbox against
# --spawn_strategy=local on a workspace of trivial genrules, clean builds with `bazel clean`
# between them. Prints a Markdown table on stdout (progress on stderr) and exits non-zero when a
# build fails or a strategy did not run the spawns it was asked to (for instance when
# linux-sandbox is unavailable and Bazel fell back to another strategy).
#
# Usage: benchmarks/scripts/linux-sandbox-anchor.sh [--genrules N] [--runs N] [--jobs LIST]
#   --genrules N   genrules in the workspace (default 50)
#   --runs N       measured clean builds per strategy and job count (default 5), after one warm-up
#   --jobs LIST    comma-separated values of --jobs to measure (default 1,2)
# Needs the `bazel` client on PATH (Debian: apt-get install -y bazel-bootstrap).
set -euo pipefail

genrules=50
runs=5
jobs_list=1,2
while [ $# -gt 0 ]; do
  case "$1" in
    --genrules) genrules="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --jobs) jobs_list="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

command -v bazel >/dev/null || { echo "bazel is not on PATH: apt-get install -y bazel-bootstrap" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/hearth-anchor-XXXXXX")"
ws="$work/ws"
user_root="$work/bazel-root"
mkdir -p "$ws"
echo 'workspace(name = "anchor")' > "$ws/WORKSPACE"
# Each genrule writes its own name: trivial, no inputs, distinct outputs, never a cache hit
# after `bazel clean` (no disk or remote cache is configured).
cat > "$ws/BUILD" <<BUILD
[genrule(
    name = "g%d" % i,
    outs = ["g%d.txt" % i],
    cmd = "echo g%d > \$@" % i,
) for i in range($genrules)]
BUILD

bazel_cmd() {
  (cd "$ws" && bazel --output_user_root="$user_root" --nohome_rc --max_idle_secs=60 "$@")
}
cleanup() {
  bazel_cmd shutdown >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# --nosandbox_debug: Debian's /etc/bazel/bazelrc turns sandbox debugging on, which keeps every
# sandbox directory on disk and would make linux-sandbox look slower than it is.
common=(--nosandbox_debug --color=no --curses=no --noshow_progress --show_result=0)

# One clean build; prints its wall time in milliseconds. Fails unless the process summary shows
# that all genrules ran with the strategy asked for.
one_build() {
  local strategy="$1" jobs="$2" log="$work/build.log" start end
  bazel_cmd clean >/dev/null 2>&1
  start=$(date +%s%N)
  if ! bazel_cmd build "${common[@]}" --spawn_strategy="$strategy" --jobs="$jobs" //... >"$log" 2>&1; then
    echo "bazel build with --spawn_strategy=$strategy failed:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  end=$(date +%s%N)
  if ! grep -Eq "processes: .*\b$genrules $strategy\b" "$log"; then
    echo "expected $genrules spawns run with $strategy; Bazel said:" >&2
    grep -E "processes:" "$log" >&2 || tail -n 20 "$log" >&2
    exit 1
  fi
  echo $(( (end - start) / 1000000 ))
}

stats() { # median min max of the numbers on stdin
  sort -n | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%d %d %d\n", m, v[1], v[NR] }'
}

# Debian's client says "Version information not available"; its package knows the version.
bazel_version="$(dpkg-query -W -f='${Version}' bazel-bootstrap 2>/dev/null || echo unknown)"
echo "bazel: $bazel_version, kernel $(uname -r), $(nproc) CPUs, uid $(id -u)" >&2
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

declare -A median
rows=()
IFS=, read -ra jobs_values <<< "$jobs_list"
for jobs in "${jobs_values[@]}"; do
  for strategy in local linux-sandbox; do
    echo "warm-up: $strategy, --jobs=$jobs" >&2
    one_build "$strategy" "$jobs" >/dev/null
    times=()
    for ((r = 1; r <= runs; r++)); do
      t=$(one_build "$strategy" "$jobs")
      echo "  run $r: $t ms" >&2
      times+=("$t")
    done
    read -r med min max < <(printf '%s\n' "${times[@]}" | stats)
    median["$strategy/$jobs"]=$med
    rows+=("| \`$strategy\` | $jobs | $runs | $med ms | $min ms | $max ms | $(awk -v m="$med" -v n="$genrules" 'BEGIN { printf "%.1f", m / n }') ms | ${times[*]} |")
  done
done

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "| Strategy | --jobs | Runs | Median build | Min | Max | Median per genrule | All runs (ms) |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
printf '%s\n' "${rows[@]}"
echo
for jobs in "${jobs_values[@]}"; do
  local_ms=${median["local/$jobs"]}
  sandbox_ms=${median["linux-sandbox/$jobs"]}
  awk -v l="$local_ms" -v s="$sandbox_ms" -v n="$genrules" -v j="$jobs" 'BEGIN {
    printf "- --jobs=%s: linux-sandbox adds %d ms per clean build of %d genrules, %.1f ms per genrule (medians)\n", j, s - l, n, (s - l) / n }'
done
