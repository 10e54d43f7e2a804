#!/usr/bin/env bash
# Starts a throw-away Postgres server for the tests: `scripts/postgres.sh start DIR` initialises a
# cluster in DIR (a temporary folder), starts it on a free loopback port and prints its URL on
# stdout; `scripts/postgres.sh stop DIR` stops it. The Debian package `postgresql` is installed
# when missing (as root, with apt-get). Postgres refuses to run as root, so as root the cluster
# belongs to the `postgres` user the package creates.
set -euo pipefail

command="${1:-}"
dir="${2:-}"
if [ -z "$command" ] || [ -z "$dir" ]; then
  echo "usage: scripts/postgres.sh start|stop DIR" >&2
  exit 2
fi

bin_dir() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  # Debian keeps the server's programs out of PATH, in one folder per major version.
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$command" in
  start)
    bin="$(bin_dir || true)"
    if [ -z "$bin" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "postgres.sh: installing postgresql (Debian package) for the store tests" >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null 2>&1 \
        || echo "postgres.sh: could not install postgresql" >&2
      bin="$(bin_dir || true)"
    fi
    if [ -z "$bin" ]; then
      echo "postgres.sh: no Postgres server programs (initdb, pg_ctl) found" >&2
      exit 1
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      id postgres >/dev/null 2>&1 || { echo "postgres.sh: no \`postgres\` user to run the server as" >&2; exit 1; }
      chown postgres "$dir"
    fi
    for _ in $(seq 1 20); do
      port=$((20000 + RANDOM % 40000))
      # A port nothing answers on is free.
      if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    done
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # fsync stays on: the tests check that an acknowledged event survives a kill.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c max_connections=200" \
      start >/dev/null 2>&1 || { cat "$dir/server.log" >&2; exit 1; }
    echo "$bin" >"$dir/bin"
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -f "$dir/bin" ]; then
      as_owner "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: scripts/postgres.sh start|stop DIR" >&2
    exit 2
    ;;
esac
