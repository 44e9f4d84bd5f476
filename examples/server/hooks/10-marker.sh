#!/bin/sh
# Runs inside the image root: leaves a marker that tests and people can look for.
set -eu
echo "customized by kiln for ${KILN_NAME} (${KILN_ARCH})" > /etc/kiln-marker
