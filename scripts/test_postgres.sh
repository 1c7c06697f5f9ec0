#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, in a fresh folder, on a free local port.
#   eval "$(scripts/test_postgres.sh start)"   # exports VAE_TEST_POSTGRES_URL and VAE_TEST_POSTGRES_DIR
#   scripts/test_postgres.sh stop              # stops it and removes its folder
# Needs Debian's postgresql (apt-get install postgresql); run as root it runs the server as the postgres user.
set -euo pipefail
initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
if [ -z "$initdb" ]; then
  echo "PostgreSQL is not installed: apt-get install postgresql" >&2
  exit 1
fi
bin=$(dirname "$initdb")
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
  start)
    dir=$(mktemp -d /tmp/vae-postgres.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=off" start >/dev/null
    echo "export VAE_TEST_POSTGRES_DIR=$dir"
    echo "export VAE_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    dir=${VAE_TEST_POSTGRES_DIR:?"VAE_TEST_POSTGRES_DIR is not set (start prints it)"}
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
