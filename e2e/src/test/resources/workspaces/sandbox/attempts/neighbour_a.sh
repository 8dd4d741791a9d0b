#!/bin/bash
# neighbour_a.sh: leaves a marker in its exec root and stays 20 seconds; prints when it started and
# ended (nanoseconds since the epoch), so the test can tell whether neighbour_b looked meanwhile.
echo "start: $(date +%s%N)"
echo "neighbour_a was here" >neighbour_a.marker
sleep 20
echo "end: $(date +%s%N)"
