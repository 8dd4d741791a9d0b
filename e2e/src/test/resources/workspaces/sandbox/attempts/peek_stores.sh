#!/bin/bash
# peek_stores.sh DIR...: one line per directory, "DIR: visible: <entries>" or "DIR: hidden: <error>".
for dir in "$@"; do
  if listing=$(ls -A "$dir" 2>&1); then
    echo "$dir: visible: $(echo $listing)"
  else
    echo "$dir: hidden: $listing"
  fi
done
