#!/bin/bash
# memory_hog.sh OUT: `tail -n 1` holds a 256 MiB line (no newline in /dev/zero) in memory.
set -euo pipefail
bytes=$(head -c 268435456 /dev/zero | tail -n 1 | wc -c)
echo "held a line of $bytes bytes" >"$1"
