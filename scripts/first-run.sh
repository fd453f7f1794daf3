#!/usr/bin/env bash
# The first minutes of a new user, measured: a fresh clone of this checkout, an empty CARGO_HOME
# (every crate downloaded from crates.io) and no target folder, then README's main-job command,
# timed until the echo example answers a WebSocket message. Then two projects of the built CLI
# (`socket init` → `socket dev` answering), the second one sharing the first one's dependency builds.
#
#   bash scripts/first-run.sh            # everything lands in target/first-run (deleted first)
#
# Needs the network to crates.io (the download is part of what a new user waits for) and the
# Rust toolchain with the x86_64-unknown-linux-musl target (rustup's own folder is kept).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$root/target/first-run
rm -rf "$work"
mkdir -p "$work"
unset CARGO_TARGET_DIR
# The client that checks the answer, built before the clock starts (a user would use websocat).
cargo build -q --release -p socket-bench
bench=$root/target/release/socket-bench
git clone -q "$root" "$work/socket"
# A fresh machine: no crates downloaded, no target folders, no socket cache.
export CARGO_HOME=$work/cargo-home XDG_CACHE_HOME=$work/cache AWS_EC2_METADATA_DISABLED=true NO_COLOR=1

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
# Waits for the ws:// URL in $1, then for an echo through it; prints the URL.
answered() {
  local log=$1 url=''
  while [ -z "$url" ]; do
    url=$(grep -o 'ws://127.0.0.1:[0-9]*/[A-Za-z0-9_-]*' "$log" | head -1 || true)
    if [ -z "$url" ]; then
      if ! kill -0 "$2" 2>/dev/null; then tail -30 "$log" >&2; exit 1; fi
      sleep 0.2
    fi
  done
  until "$bench" echo --url "$url" --connections 1 --messages 1 --warmup 0 --timeout 5 >/dev/null 2>&1; do
    sleep 0.2
  done
  echo "$url"
}

echo "first-run: README's main job in a fresh clone, CARGO_HOME=$CARGO_HOME"
cd "$work/socket"
start=$(now)
setsid cargo run --release -p socket-cli -- dev --config examples/echo/serverless.yml --port 0 \
  >"$work/first.log" 2>&1 &
pid=$!
answered "$work/first.log" "$pid" >/dev/null
first=$(since "$start")
kill -TERM -- "-$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
cli_build=$(grep -o 'Finished `release` profile.* in [0-9.]*[a-z]*' "$work/first.log" | head -1 | grep -o '[0-9.]*[a-z]*$' || true)
cli_size=$(stat -c %s target/release/socket)
echo "first-run: echo answered $first s after the command (CLI build: $cli_build, CLI binary: $cli_size bytes)"

# Projects of an installed CLI: `socket init` + `socket dev`, twice. The first compiles the
# runtime and the template's dependencies into socket's shared target folder, the second finds
# them there and compiles only its own crate.
socket=$work/socket/target/release/socket
project() { # name → seconds from `socket init` to an answered echo
  local start pid
  start=$(now)
  (cd "$work" && "$socket" init "$1" >/dev/null 2>&1)
  setsid "$socket" dev --config "$work/$1/serverless.yml" --port 0 >"$work/$1.log" 2>&1 &
  pid=$!
  answered "$work/$1.log" "$pid" >/dev/null
  since "$start"
  kill -TERM -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
one=$(project first-project)
echo "first-run: installed CLI, first project answered $one s after socket init"
two=$(project second-project)
echo "first-run: installed CLI, second project answered $two s after socket init"
printf '{"kind":"first-run","first_s":%s,"cli_build":"%s","cli_bytes":%s,"first_project_s":%s,"second_project_s":%s}\n' \
  "$first" "$cli_build" "$cli_size" "$one" "$two" >>"$root/target/first-run.jsonl"
