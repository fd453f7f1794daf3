#!/usr/bin/env bash
# The first minutes of a new user, measured on this machine.
#
#   bash scripts/first-run.sh            # both parts; results in target/first-run/
#   bash scripts/first-run.sh main       # README's main job in a fresh clone
#   bash scripts/first-run.sh projects   # two `socket init` projects of the CLI built by `main`
#
# main: a fresh clone of this checkout, an empty CARGO_HOME (every crate downloaded from
# crates.io: the download is part of the wait) and socket cache, no target folder; README's
# main-job command, timed until the echo example answers a WebSocket message.
# projects: with that CLI and a fresh socket cache, `socket init` → `socket dev` answering (the
# handshake runs `connect` in the handler), twice: the first project compiles the runtime and
# its dependencies into socket's shared target folder, the second finds them there.
#
# Needs the network to crates.io and the Rust toolchain with the x86_64-unknown-linux-musl target
# (rustup's own folder is kept: installing the target is not timed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$root/target/first-run
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(main projects)
unset CARGO_TARGET_DIR
# The client that checks the answers, built before any clock starts.
cargo build -q --release -p socket-bench
bench=$root/target/release/socket-bench
export AWS_EC2_METADATA_DISABLED=true NO_COLOR=1

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
# Waits until the `socket dev` logging to $1 (pid $2) printed its URL and then answers: an echo
# with $3 = echo, a completed handshake with $3 = handshake.
answered() {
  local log=$1 url=''
  while [ -z "$url" ]; do
    url=$(grep -o 'ws://127.0.0.1:[0-9]*/[A-Za-z0-9_-]*' "$log" | head -1 || true)
    if [ -z "$url" ]; then
      if ! kill -0 "$2" 2>/dev/null; then tail -30 "$log" >&2; exit 1; fi
      sleep 0.2
    fi
  done
  if [ "$3" = echo ]; then
    until "$bench" echo --url "$url" --connections 1 --messages 1 --warmup 0 --timeout 5 >/dev/null 2>&1; do sleep 0.2; done
  else
    until "$bench" hold --url "$url" --connections 1 --hold 0 --verify 0 >/dev/null 2>&1; do sleep 0.2; done
  fi
}
stop() { kill -TERM -- "-$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

for part in "${parts[@]}"; do
  case $part in
  main)
    rm -rf "$work"
    mkdir -p "$work"
    git clone -q "$root" "$work/socket"
    echo "first-run: README's main job in a fresh clone, empty CARGO_HOME and socket cache"
    start=$(now)
    (cd "$work/socket" && CARGO_HOME=$work/cargo-home XDG_CACHE_HOME=$work/cache exec setsid \
      cargo run --release -p socket-cli -- dev --config examples/echo/serverless.yml --port 0) \
      >"$work/main.log" 2>&1 &
    pid=$!
    answered "$work/main.log" "$pid" echo
    total=$(since "$start")
    stop "$pid"
    cli_build=$(grep -o 'Finished `release` profile.* in .*' "$work/main.log" | sed 's/.* in //')
    handler=$(grep -o 'Building handler for socket dev: .*' "$work/main.log" | grep -o '([0-9ms]*)$')
    echo "first-run: echo answered after $total s (cargo run, downloads included: $cli_build;" \
      "handler build $handler; socket binary $(stat -c %s "$work/socket/target/release/socket") bytes)"
    ;;
  projects)
    socket=$work/socket/target/release/socket
    cache=$work/projects-cache
    rm -rf "$cache" "$work/first-project" "$work/second-project"
    for name in first-project second-project; do
      start=$(now)
      (cd "$work" && XDG_CACHE_HOME=$cache "$socket" init "$name" >/dev/null 2>&1)
      XDG_CACHE_HOME=$cache setsid "$socket" dev --config "$work/$name/serverless.yml" --port 0 \
        >"$work/$name.log" 2>&1 &
      pid=$!
      answered "$work/$name.log" "$pid" handshake
      total=$(since "$start")
      stop "$pid"
      handler=$(grep -o 'Building handler for socket dev: .*' "$work/$name.log" | grep -o '([0-9ms.]*)$')
      echo "first-run: $name answered $total s after socket init (handler build $handler)"
    done
    ;;
  *) echo "first-run: unknown part $part (main, projects)" >&2; exit 2 ;;
  esac
done
