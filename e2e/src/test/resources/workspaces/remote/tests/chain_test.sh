#!/bin/bash
set -euo pipefail
chain="$1"
for i in 1 2 3 4 5 6; do
  grep -q "^link $i" "$chain" || { echo "link $i missing from $chain"; exit 1; }
done
echo "chain_test: all six links present"
