#!/bin/sh
# Install lethe's build, test and demo dependencies from Debian's packages.
# As root it runs apt-get; otherwise it prints the exact command and stops.
#   scripts/install-deps.sh          build and test dependencies
#   scripts/install-deps.sh --data   also the Fashion-MNIST data set (for make demo / bench)
set -eu
pkgs="build-essential pkg-config libgsl-dev libopenblas-dev liblapacke-dev libsodium-dev libcmocka-dev zlib1g-dev dataset-fashion-mnist"
if [ "$(id -u)" -ne 0 ]; then
    echo "lethe needs these Debian packages. Run, as root:" >&2
    echo "  apt-get update && apt-get install -y $pkgs" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q $pkgs >&2
