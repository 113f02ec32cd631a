#!/usr/bin/env bash
# Exit 0 when the stack of $HUGGINGTWEETS_BSKY_STACK (default /tmp/huggingtweets-bsky/stack.json) runs and answers.
set -euo pipefail
stack=${HUGGINGTWEETS_BSKY_STACK:-/tmp/huggingtweets-bsky/stack.json}
[ -s "$stack" ] || { echo "bsky stack: not running (no $stack)"; exit 1; }
read -r pds appview plc pids < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["pds"], d["appview"], d["plc"], ",".join(map(str, d["pids"])))' "$stack")
for pid in ${pids//,/ }; do kill -0 "$pid" 2>/dev/null || { echo "bsky stack: process $pid has stopped"; exit 1; }; done
for u in "$pds/xrpc/_health" "$appview/xrpc/_health" "$plc/_health"; do
  curl -sf -m 5 "$u" >/dev/null || { echo "bsky stack: $u does not answer"; exit 1; }
done
echo "bsky stack: running: PDS $pds, AppView $appview, PLC $plc"
