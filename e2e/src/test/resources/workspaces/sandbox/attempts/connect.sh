#!/bin/bash
# connect.sh PORT: opens a TCP connection to 127.0.0.1:PORT with bash's /dev/tcp.
if msg=$( (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>&1); then
  echo "connect: connected"
else
  echo "connect: failed: $msg"
fi
