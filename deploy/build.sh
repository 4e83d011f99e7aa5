#!/bin/sh
# Builds the middletier binary the one way it ships: static (no cgo), with
# no file system paths (-trimpath) and no symbol tables (-s -w). The
# Dockerfile's build stage runs this script, and so does CI (deploy/check-binary.sh),
# so the binary CI checks is built exactly as the image's.
#
# Usage: sh deploy/build.sh OUTPUT
set -eu
out=${1:?usage: build.sh OUTPUT}
CGO_ENABLED=0 exec go build -trimpath -ldflags "-s -w" -o "$out" ./cmd/middletier
