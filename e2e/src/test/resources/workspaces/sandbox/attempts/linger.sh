#!/bin/bash
# linger.sh: leaves a daemon-like `sleep 6001` (own session, no terminal, no open outputs) behind.
setsid sleep 6001 </dev/null >/dev/null 2>&1 &
echo "started sleep 6001 as pid $!"
