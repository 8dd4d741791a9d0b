#!/bin/sh
# The JDK on the action's PATH, so that the rule needs no Java toolchain from Bazel.
exec java "$@"
