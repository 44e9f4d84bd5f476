#!/bin/sh
# Runs on the host after the disk image is assembled: $1 is the build folder holding it.
set -eu
echo "image hook: $(basename "$KILN_IMAGE") is $(stat -c %s "$KILN_IMAGE") bytes in $1"
