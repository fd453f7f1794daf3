#!/usr/bin/env bash
# Installs what building, packaging and testing `socket` needs on a fresh Debian/Ubuntu machine,
# skipping whatever is already there:
#   - Debian packages: musl-tools (x86_64 static builds), gcc-aarch64-linux-gnu + libc6-dev-arm64-cross
#     (arm64 builds with C code),
#     chromium (the browser test of examples/echo)
#   - Rust targets: x86_64-unknown-linux-musl, aarch64-unknown-linux-musl
#   - moto[server], the local AWS implementation the deploy tests run against, and jsonschema +
#     PyYAML (the schema test's validator), in target/moto-venv
#   - Zig and cargo-zigbuild (PyPI: ziglang, cargo-zigbuild) in target/zig-venv, for the test that
#     packages without C cross compilers (cli/tests/zig.rs)
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup: need root to run: $*" >&2; return 1; fi
}

missing=()
command -v musl-gcc >/dev/null || missing+=(musl-tools)
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
# ring includes libc headers: the cross compiler alone is not enough for arm64.
[ -d /usr/aarch64-linux-gnu/include ] || missing+=(libc6-dev-arm64-cross)
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if command -v rustup >/dev/null; then
  installed=$(rustup target list --installed)
  for target in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    grep -qx "$target" <<<"$installed" || rustup target add "$target"
  done
fi

venv=target/moto-venv
if [ ! -x "$venv/bin/moto_server" ] || ! "$venv/bin/python3" -c 'import jsonschema, yaml' 2>/dev/null; then
  echo "setup: installing moto[server], jsonschema and PyYAML into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]' jsonschema pyyaml
fi
venv=target/zig-venv
if [ ! -x "$venv/bin/cargo-zigbuild" ]; then
  echo "setup: installing ziglang and cargo-zigbuild into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check ziglang cargo-zigbuild
fi
echo "setup: ready"
