#!/bin/bash
set -euo pipefail
listing="$1"
for f in ./alpha.txt ./empty_in_tree.txt ./nested/beta.txt ./nested/deeper/gamma.txt; do
  grep -qx "== $f" "$listing" || { echo "$f missing from $listing"; exit 1; }
done
echo "tree_test: directory output complete"
