#!/usr/bin/env bash
# Runs the benchmarks of BENCHMARKS.md and prints their figures.
#
#   scripts/bench.sh                   everything: echo, hold, runtime, zip, deploy, broadcast, chat,
#                                      edit-loop
#   scripts/bench.sh echo runtime      only some parts
#
# Environment: REPEATS (echo runs per server and load, default 3), ECHO_TIME_LIMIT (seconds a slow
# server gets per echo run, default 60), HOLD (connections to hold, default 10000), BROADCAST
# (members of the broadcast channel, default 10000),
# INVOCATIONS (runtime, default 10000), COLD_STARTS (default 50), EDITS (edit-loop, default 5).
#
# It first builds what it measures (release `socket` and `socket-bench`, the Lambda builds of
# examples/echo and bare-echo) and installs the peers (scripts/bench-peers.sh). Then, as root, it
# re-runs itself inside a fresh network namespace that has only loopback, so that no server under
# test and no AWS SDK can reach anything off this machine. Results are appended as JSON lines to
# target/bench/results.jsonl and tabulated into target/bench/report.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$root/target/bench
results=$out/results.jsonl
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(echo hold runtime zip deploy broadcast chat edit-loop)
wants() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

REPEATS=${REPEATS:-3}
ECHO_TIME_LIMIT=${ECHO_TIME_LIMIT:-60}
HOLD=${HOLD:-10000}
BROADCAST=${BROADCAST:-10000}
INVOCATIONS=${INVOCATIONS:-10000}
COLD_STARTS=${COLD_STARTS:-50}
export REPEATS ECHO_TIME_LIMIT HOLD BROADCAST INVOCATIONS COLD_STARTS

# Dummy credentials and no telemetry, update checks or metadata lookups, for every peer and SDK.
export AWS_ACCESS_KEY_ID=AKIDBENCHMARK AWS_SECRET_ACCESS_KEY=benchmark-secret AWS_REGION=us-east-1 \
  AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true SLS_TELEMETRY_DISABLED=1 \
  SLS_NOTIFICATIONS_MODE=off NO_UPDATE_NOTIFIER=1 CARGO_NET_OFFLINE=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL
# The handlers `socket` builds go to this checkout's target folder (instead of the per-user
# shared one), beside bare-echo, whose builds below use the same profile.
export SOCKET_TARGET_DIR=$root/target

bench=$root/target/release/socket-bench
socket=$root/target/release/socket
lambda_dir() { echo "$root/target/$1-unknown-linux-musl/socket-lambda"; }

# The `socket-lambda` profile exactly as `socket package` defines it (cli/src/build/profile.rs).
lambda_profile=(--profile socket-lambda
  --config 'profile.socket-lambda.inherits="release"' --config 'profile.socket-lambda.opt-level="s"'
  --config 'profile.socket-lambda.lto=true' --config 'profile.socket-lambda.codegen-units=1'
  --config 'profile.socket-lambda.panic="unwind"' --config 'profile.socket-lambda.strip=true'
  --config 'profile.socket-lambda.debug=false' --config 'profile.socket-lambda.incremental=false')

prepare() {
  mkdir -p "$out"
  if wants echo || wants hold; then bash scripts/bench-peers.sh; fi
  echo "bench: building socket and socket-bench (release)"
  cargo build --release -p socket-cli -p socket-bench
  if wants chat; then
    # The chat example's Lambda packages, made the same way as the echo example's below.
    for arch in x86_64 aarch64; do
      local manifest_arch=$arch dir=$out/chat-$arch
      [ "$arch" = aarch64 ] && manifest_arch=arm64
      mkdir -p "$dir"
      sed -e "s/^\( *architecture:\).*/\1 $manifest_arch/" examples/chat/serverless.yml >"$dir/serverless.yml"
      printf '    code: %s\n' "$root/examples/chat" >>"$dir/serverless.yml"
      echo "bench: socket package (examples/chat, $arch)"
      "$socket" package -c "$dir/serverless.yml"
    done
  fi
  if wants runtime || wants zip || wants deploy || wants chat; then
    for arch in x86_64 aarch64; do
      local manifest_arch=$arch dir=$out/echo-$arch
      [ "$arch" = aarch64 ] && manifest_arch=arm64
      mkdir -p "$dir"
      # The echo example's manifest, for this architecture, pointing at the example's crate.
      sed -e "s/^\( *architecture:\).*/\1 $manifest_arch/" examples/echo/serverless.yml >"$dir/serverless.yml"
      printf '    code: %s\n' "$root/examples/echo" >>"$dir/serverless.yml"
      echo "bench: socket package (examples/echo, $arch)"
      "$socket" package -c "$dir/serverless.yml"
      echo "bench: building bare-echo with the same profile ($arch)"
      if [ "$arch" = aarch64 ]; then
        CC_aarch64_unknown_linux_musl=aarch64-linux-gnu-gcc AR_aarch64_unknown_linux_musl=aarch64-linux-gnu-ar \
          CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld \
          cargo build -p socket-bench --bin bare-echo --target aarch64-unknown-linux-musl "${lambda_profile[@]}"
      else
        cargo build -p socket-bench --bin bare-echo --target x86_64-unknown-linux-musl "${lambda_profile[@]}"
      fi
    done
  fi
}

# --- inside the namespace -------------------------------------------------------------------------

pids=()
# A server and everything it started (socket dev's workers, the sandbox's handler processes). The
# parent is frozen first: the sandbox otherwise keeps spawning handlers while its children die.
kill_tree() {
  local child
  kill -STOP "$1" 2>/dev/null || true
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
  kill -TERM "$1" 2>/dev/null || true
  kill -CONT "$1" 2>/dev/null || true
}
# Each server runs in its own process group (setsid): the group also takes the handler processes
# that were being started while the tree was walked.
stop() {
  kill_tree "$1"
  kill -TERM -- "-$1" 2>/dev/null || true
  sleep 1
  kill -KILL -- "-$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${pids[@]}"; do stop "$pid"; done
}

wait_for() { # file, pattern, seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: gave up waiting for '$2' in $1:" >&2
  tail -20 "$1" >&2
  return 1
}

socket_pid='' socket_url='' sls_pid='' arc_pid=''
start_socket() {
  # Emptied here, not by the child's redirection: wait_for must never read the last run's URL.
  : >"$out/socket-dev.log"
  setsid "$socket" dev -c examples/echo/serverless.yml --port 0 --no-watch >"$out/socket-dev.log" 2>&1 &
  socket_pid=$!
  pids+=("$socket_pid")
  # The first start builds the handler (socket-dev profile); later ones find it built.
  wait_for "$out/socket-dev.log" 'ws://127.0.0.1:[0-9]*/' 900
  socket_url=$(grep -o 'ws://127.0.0.1:[0-9]*/[A-Za-z0-9_-]*' "$out/socket-dev.log" | head -1)
}
start_sls() {
  : >"$out/sls.log"
  (cd target/peers/sls && exec setsid node_modules/.bin/serverless offline start --host 127.0.0.1 \
    --websocketPort 3001 --httpPort 3000 --lambdaPort 3002) >"$out/sls.log" 2>&1 &
  sls_pid=$!
  pids+=("$sls_pid")
  wait_for "$out/sls.log" 'Offline \[websocket\] listening' 120
}
start_arc() {
  : >"$out/arc.log"
  (cd target/peers/arc && exec setsid node_modules/.bin/sandbox --port 3333 --host 127.0.0.1 \
    --disable-delete-vendor) >"$out/arc.log" 2>&1 &
  arc_pid=$!
  pids+=("$arc_pid")
  wait_for "$out/arc.log" 'Local environment ready' 120
}

# label url route-field
servers() {
  echo "socket $socket_url route"
  echo "sls ws://127.0.0.1:3001 action"
  echo "arc ws://127.0.0.1:3333 action"
}

# The sandbox's handler processes outlive a load (a 50-connection run leaves dozens finishing or
# timing out); the next server's run must not share the CPU with them.
settle() {
  local i
  for ((i = 0; i < 600; i++)); do
    [ -z "$(ps -o pid= -g "$arc_pid" | grep -vx " *$arc_pid")" ] && break
    sleep 0.1
  done
  sleep 2
}

measure_echo() {
  local rep label url field load
  for ((rep = 1; rep <= REPEATS; rep++)); do
    for load in "1 2000" "50 200"; do
      set -- $load
      # The servers take turns, so every run of a load sees the same machine conditions.
      while read -r label url field; do
        "$bench" echo --url "$url" --label "$label" --route-field "$field" --connections "$1" \
          --messages "$2" --time-limit "$ECHO_TIME_LIMIT" --record "$results" || true
        settle
      done < <(servers)
    done
  done
}

measure_hold() { # label url field pid
  # 64 handshakes in flight: the sandbox starts a Node.js process per $connect, and more at once
  # would take gigabytes.
  "$bench" hold --url "$2" --label "$1" --route-field "$3" --connections "$HOLD" --pid "$4" \
    --concurrency 64 --open-limit 90 --record "$results" || true
}

measure() {
  ip link set lo up 2>/dev/null || true
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  echo "bench: in a network namespace with only loopback; open files limit $(ulimit -n)"
  trap cleanup EXIT
  if wants echo || wants hold; then
    start_socket
    start_sls
    start_arc
    echo "bench: servers up: socket dev at $socket_url (pid $socket_pid), serverless-offline (pid $sls_pid), Architect sandbox (pid $arc_pid)"
  fi
  if wants echo; then measure_echo; fi
  if wants hold; then
    # One server at a time, each stopped after its hold, so none holds memory or CPU for the next.
    measure_hold socket "$socket_url" route "$socket_pid"
    stop "$socket_pid"
    measure_hold sls ws://127.0.0.1:3001 action "$sls_pid"
    stop "$sls_pid"
    measure_hold arc ws://127.0.0.1:3333 action "$arc_pid"
    stop "$arc_pid"
  fi
  cleanup
  pids=()

  local x86 arm
  x86=$(lambda_dir x86_64) arm=$(lambda_dir aarch64)
  if wants runtime; then
    "$bench" runtime --binary "$out/echo-x86_64/.socket/dev/bootstrap" --baseline "$x86/bare-echo" \
      --invocations "$INVOCATIONS" --cold-starts "$COLD_STARTS" --log-dir "$out/logs" --record "$results"
    # The same baseline against itself: how far apart two identical binaries measure here.
    "$bench" runtime --binary "$x86/bare-echo" --baseline "$x86/bare-echo" --label bare-echo-A \
      --baseline-label bare-echo-B --invocations "$INVOCATIONS" --cold-starts "$COLD_STARTS" \
      --log-dir "$out/logs" --record "$results"
    # Instructions instead of time: the same for the same binaries whatever else the machine does.
    # Once against the signing baseline (what a deployed handler runs), once against the unsigned
    # floor (BARE_ECHO_UNSIGNED=1 reaches bare-echo through the wrapper; the echo ignores it).
    if command -v valgrind >/dev/null; then
      local cg mode wrapper
      for mode in signed unsigned; do
        cg=$out/callgrind-$mode
        rm -rf "$cg" && mkdir -p "$cg"
        wrapper="valgrind --tool=callgrind --callgrind-out-file=$cg/cg.%q{SOCKET_BENCH_INSTANCE}"
        [ "$mode" = unsigned ] && wrapper="env BARE_ECHO_UNSIGNED=1 $wrapper"
        "$bench" runtime --binary "$out/echo-x86_64/.socket/dev/bootstrap" --baseline "$x86/bare-echo" \
          --baseline-label "bare-lambda_runtime-$mode" --invocations 2000 --rounds 1 --cold-starts 0 \
          --log-dir "$out/logs" --wrapper "$wrapper"
        "$bench" instructions --dir "$cg" --labels socket-runtime "bare-lambda_runtime-$mode" \
          --invocations 2000 --record "$results"
      done
    fi
  fi
  if wants zip; then
    "$bench" zip --zip "$out/echo-x86_64/.socket/dev/bootstrap.zip" --label "echo (socket package)" --arch x86_64 --record "$results"
    "$bench" zip --binary "$x86/bare-echo" --label bare-echo --arch x86_64 --record "$results"
    "$bench" zip --zip "$out/echo-aarch64/.socket/dev/bootstrap.zip" --label "echo (socket package)" --arch arm64 --record "$results"
    "$bench" zip --binary "$arm/bare-echo" --label bare-echo --arch arm64 --record "$results"
  fi
  if wants deploy; then measure_deploy; fi
  if wants broadcast; then measure_broadcast; fi
  if wants chat; then measure_chat; fi
  if wants edit-loop; then measure_edit_loop; fi
}

measure_edit_loop() {
  # Save → new code served, on a `socket init` project, for the worker targets this host runs.
  local target
  for target in lambda host; do
    "$bench" edit-loop --socket "$socket" --worker-target "$target" --edits "${EDITS:-5}" \
      --dir "$out/edit-loop-$target" --record "$results" || true
  done
}

measure_broadcast() {
  # socket dev on the chat example, alone on the machine; its open-file limit is this shell's.
  : >"$out/socket-dev-chat.log"
  setsid "$socket" dev -c examples/chat/serverless.yml --port 0 --no-watch >"$out/socket-dev-chat.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  wait_for "$out/socket-dev-chat.log" 'ws://127.0.0.1:[0-9]*/' 900
  local url
  url=$(grep -o 'ws://127.0.0.1:[0-9]*/[A-Za-z0-9_-]*' "$out/socket-dev-chat.log" | head -1)
  "$bench" broadcast --url "$url" --connections "$BROADCAST" --pid "$pid" --record "$results" || true
  stop "$pid"
}

measure_chat() {
  # The chat example against the echo example: zip size, and cold start with the registry on
  # (the table's name set, as `socket deploy` sets it; nothing is called before the first event).
  local arch
  for arch in x86_64 aarch64; do
    local label=$arch
    [ "$arch" = aarch64 ] && label=arm64
    "$bench" zip --zip "$out/chat-$arch/.socket/dev/bootstrap.zip" --label "chat (socket package)" --arch "$label" --record "$results"
    "$bench" zip --zip "$out/echo-$arch/.socket/dev/bootstrap.zip" --label "echo (socket package)" --arch "$label" --record "$results"
  done
  "$bench" runtime --binary "$out/chat-x86_64/.socket/dev/bootstrap" --label chat \
    --baseline "$out/echo-x86_64/.socket/dev/bootstrap" --baseline-label echo \
    --env SOCKET_REGISTRY_TABLE=chat-dev-connections --env SOCKET_REGISTRY_ENDPOINT=http://127.0.0.1:9/@dynamodb \
    --invocations 10 --rounds 1 --cold-starts "$COLD_STARTS" --log-dir "$out/logs" --record "$results"
}

measure_deploy() {
  local port=4566 dir=$out/deploy
  rm -rf "$dir" && mkdir -p "$dir"
  # The role attaches an AWS-managed policy, which moto knows only when told to load them.
  MOTO_IAM_LOAD_MANAGED_POLICIES=true target/moto-venv/bin/moto_server -H 127.0.0.1 -p $port >"$out/moto.log" 2>&1 &
  pids+=($!)
  local i
  for ((i = 0; i < 600; i++)); do
    (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
    sleep 0.1
  done
  cp "$out/echo-aarch64/serverless.yml" "$dir/serverless.yml"
  # v1 is the echo example's arm64 package; v2, the code change, is another real arm64 handler.
  cp "$out/echo-aarch64/.socket/dev/bootstrap.zip" "$dir/v1.zip"
  "$bench" zip --binary "$(lambda_dir aarch64)/bare-echo" --out "$dir/v2.zip" --label v2 --arch arm64 >/dev/null
  # No AWS configuration of this machine's user may leak in; the Rust toolchain stays reachable.
  local deploy=(env AWS_ENDPOINT_URL=http://127.0.0.1:$port HOME="$dir" AWS_CONFIG_FILE="$dir/none"
    RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
    AWS_SHARED_CREDENTIALS_FILE="$dir/none" "$socket" deploy -c "$dir/serverless.yml" -v)
  step() { # name, extra args...
    local name=$1
    shift
    "$bench" deploy-step --label socket --step "$name" --log "$dir/$name.log" --record "$results" -- \
      "${deploy[@]}" "$@" || true
  }
  step first --package "$dir/v1.zip"
  for ((i = 1; i <= REPEATS; i++)); do
    step no-op --package "$dir/v1.zip"
    step code-change --package "$dir/v2.zip"
    step code-change-back --package "$dir/v1.zip"
  done
  # What a user runs: no --package, so deploy builds first (cargo finds nothing to do) and zips.
  step "no-op with build"
  stop "${pids[-1]}"
}

if [ "${1:-}" = --in-namespace ]; then
  shift
  parts=("$@")
  [ ${#parts[@]} -gt 0 ] || parts=(echo hold runtime zip deploy broadcast chat edit-loop)
  measure
  exit 0
fi

prepare
[ -f "$results" ] && mv "$results" "$out/results.$(date +%Y%m%d-%H%M%S).jsonl"
{
  echo "# machine"
  echo "nproc: $(nproc); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"
  free -h | head -2
  echo "kernel: $(uname -r); rustc: $(rustc --version); node: $(node --version)"
} | tee "$out/machine.txt"
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
  unshare --net bash "$0" --in-namespace "${parts[@]}"
else
  echo "bench: not root: running on the host network; servers still bind 127.0.0.1 only" >&2
  bash "$0" --in-namespace "${parts[@]}" || true
fi
"$bench" report "$results" | tee "$out/report.md"
