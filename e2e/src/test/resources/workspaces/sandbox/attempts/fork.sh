#!/bin/bash
# fork.sh OUT: starts up to 64 `sleep 300` at once. dash, not bash: bash retries a refused fork
# for 15 seconds, dash stops at once with "Cannot fork". Everything after dash is a bash builtin,
# so that reporting does not need a fork itself.
pids="$1.pids"
: >"$pids"
sh -c 'i=0; while [ $i -lt 64 ]; do sleep 300 & echo $! >>"$1"; i=$((i + 1)); done' forker "$pids" 2>"$1.err"
status=$?
started=0
while read -r pid; do
  kill -9 "$pid" 2>/dev/null
  started=$((started + 1))
done <"$pids"
errors=""
while IFS= read -r line; do errors="$errors$line "; done <"$1.err"
printf 'started: %d\nsh exit: %d\nerrors: %s\n' "$started" "$status" "$errors" >"$1"
