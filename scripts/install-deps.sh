#!/bin/sh
# Install lethe's build, test and demo dependencies from Debian's packages.
# As root it runs apt-get; otherwise it prints the exact command and stops.
#   scripts/install-deps.sh     build, test and demo dependencies (the demo's data set,
#                               Fashion-MNIST, and LIBLINEAR and scikit-learn for the
#                               benchmarks included)
set -eu
pkgs="build-essential pkg-config libopenblas-dev liblapacke-dev libsodium-dev libcmocka-dev zlib1g-dev dataset-fashion-mnist liblinear-tools python3-sklearn python3-numpy python3-pytest python3-matplotlib python3-pip python3-venv python3-setuptools python3-wheel libgsl-dev"
missing=""
for p in $pkgs; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -n "$missing" ] || exit 0
pkgs=${missing# }
if [ "$(id -u)" -ne 0 ]; then
    echo "lethe needs these Debian packages. Run, as root:" >&2
    echo "  apt-get update && apt-get install -y $pkgs" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q $pkgs >&2
