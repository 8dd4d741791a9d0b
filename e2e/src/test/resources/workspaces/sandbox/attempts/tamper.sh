#!/bin/bash
# tamper.sh INPUT OUT: makes INPUT writable and appends to it; records both results in OUT.
input="$1"
if msg=$(chmod u+w "$input" 2>&1); then chmod_result="chmod: allowed"; else chmod_result="chmod: denied: $msg"; fi
if msg=$({ echo tampered >>"$input"; } 2>&1); then write_result="write: allowed"; else write_result="write: denied: $msg"; fi
printf '%s\n%s\n' "$chmod_result" "$write_result" >"$2"
