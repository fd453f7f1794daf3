#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Anything that talks to an AWS SDK stays on this machine: dummy credentials, no metadata lookups.
export AWS_EC2_METADATA_DISABLED=true
cargo build --workspace --all-targets
cargo test --workspace --all-targets
# `--all-targets` leaves doctests out: the examples in the docs, HANDLER_API.md and README.md.
cargo test --workspace --doc
