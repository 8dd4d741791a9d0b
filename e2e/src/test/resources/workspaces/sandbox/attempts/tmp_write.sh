#!/bin/bash
# tmp_write.sh NAME: writes /tmp/NAME and reads it back.
if echo "written by an action" >"/tmp/$1" && [ "$(cat "/tmp/$1")" = "written by an action" ]; then
  echo "tmp write: ok"
else
  echo "tmp write: failed"
fi
