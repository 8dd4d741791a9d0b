#!/bin/bash
# neighbour_b.sh: while neighbour_a runs, looks at its own exec root's parent directory (where the
# worker keeps every action's exec root) and at /proc for neighbour_a's marker and its `sleep 20`.
sleep 5
echo "looked: $(date +%s%N)"
parent=$(dirname "$PWD")
echo "own: $(basename "$PWD")"
echo "parent entries: $(ls -A "$parent" 2>&1 | tr '\n' ' ')"
echo "markers seen: $(find "$parent" -maxdepth 4 -name neighbour_a.marker 2>/dev/null | wc -l)"
seen=0
for cmdline in /proc/[0-9]*/cmdline; do
  # 2[0], so that this grep's own command line does not match.
  # A process may end between the glob and the read: no noise for that.
  if { tr '\0' ' ' <"$cmdline"; } 2>/dev/null | grep -q '^sleep 2[0] '; then seen=$((seen + 1)); fi
done
echo "sleeps seen: $seen"
