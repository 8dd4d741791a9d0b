#!/bin/bash
set -euo pipefail
big="$1"
digest="$2"
size=$(wc -c < "$big")
[ "$size" -eq 52428800 ] || { echo "$big has $size bytes, not 52428800"; exit 1; }
actual=$(sha256sum < "$big" | cut -d' ' -f1)
[ "$actual" = "$(cat "$digest")" ] || { echo "digest mismatch: $actual"; exit 1; }
echo "big_test: 50 MiB intact"
