# Sourced by run.sh and test.sh: installs the Debian 12 packages pcapml needs
# when they are missing (as root), or prints the exact apt-get line and stops.
BUILD_PACKAGES="cmake make g++ pkg-config libpcap-dev libboost-dev libboost-filesystem-dev
  libtomlplusplus-dev prometheus-cpp-dev libcli11-dev libssl-dev libxxhash-dev libzstd-dev zlib1g-dev
  libsystemd-dev libgtest-dev libbenchmark-dev clang libbpf-dev bpftool pybind11-dev python3-dev"
LINT_PACKAGES="clang-format clang-tidy"
# numpy for pcapml.batches, pandas for to_pandas, torch and dask/distributed for
# pcapml.torch and pcapml.dask (their tests say so and skip where these are missing).
TEST_PACKAGES="tshark tcpdump tcpreplay netsniff-ng iproute2 time prometheus systemd python3 python3-pytest python3-scapy
  python3-yaml ngtcp2-client ngtcp2-server dnsmasq-base bind9-dnsutils zstd python3-dpkt man-db curl
  python3-numpy python3-pandas python3-torch python3-dask python3-distributed"

ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "pcapml needs these Debian packages; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Configures build/ the first time (options "$@"), then builds; an existing
# build/ keeps its options, so run.sh inside a test run does not reconfigure.
build_pcapml() {
  if [ ! -f build/CMakeCache.txt ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  fi
  cmake --build build -j"$(nproc)"
}
