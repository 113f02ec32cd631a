#!/usr/bin/env bash
# Stop the stack that start.sh started, by the PIDs in $HUGGINGTWEETS_BSKY_STACK (default
# /tmp/huggingtweets-bsky/stack.json), and remove its throwaway data. Nothing running: nothing to do.
set -euo pipefail
stack=${HUGGINGTWEETS_BSKY_STACK:-/tmp/huggingtweets-bsky/stack.json}
[ -d "$(dirname "$stack")" ] || { echo "bsky stack: not running (no $stack)"; exit 0; }
dir=$(cd "$(dirname "$stack")" && pwd -P)
others=$(find "$dir" -mindepth 1 -maxdepth 1 ! -name "$(basename "$stack")" ! -name "$(basename "$stack").tmp" ! -name .lock ! -name pids \
  ! -name ready.json ! -name ready.json.tmp ! -name stack.log ! -name pg ! -name redis ! -name tmp -printf '%f ' | head -c 200)
if [ -n "$others" ]; then # start.sh never starts a stack there: its pg, redis and tmp are not ours to remove
  echo "bsky stack: $dir holds files that are not the stack's ($others): nothing stopped or removed; stop the stack's processes by hand." >&2; exit 1
fi
if [ "${1:-}" != --locked ]; then exec 9>"$dir/.lock"; flock 9; fi
if [ -s "$stack" ]; then
  pids=$(python3 -c 'import json,sys; print(" ".join(str(int(p)) for p in json.load(open(sys.argv[1]))["pids"]))' "$stack" 2>/dev/null) \
    || { echo "bsky stack: $stack is damaged; stop its processes by hand and remove it." >&2; exit 1; }
elif [ -s "$dir/pids" ]; then pids=$(tac "$dir/pids") # a start killed half-way: what it had started, the last first
else echo "bsky stack: not running (no $stack)"; exit 0
fi
for pid in $pids; do # the network first, then Redis and Postgres; only processes that are still ours (they run in $dir)
  case "$(readlink "/proc/$pid/cwd" 2>/dev/null)" in "$dir"|"$dir"/*) ;; *) continue ;; esac
  kill "$pid" 2>/dev/null || continue
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
done
rm -rf "$stack" "$dir/pids" "$dir/ready.json" "$dir/pg" "$dir/redis" "$dir/tmp"
echo "bsky stack: stopped"
