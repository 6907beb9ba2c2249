#!/bin/sh
# docker-entrypoint.sh of the test cluster's `postgres` image: what the official image's
# script does that users notice, over the host's PostgreSQL binaries (on PATH via the
# image's ENV). With `postgres` (or only flags) as arguments: when $PGDATA is empty,
# initdb with POSTGRES_USER / POSTGRES_PASSWORD (scram-sha-256 for host connections,
# trust on the local socket), create POSTGRES_DB, run /docker-entrypoint-initdb.d/*.sql
# and *.sh; then run postgres listening on the Pod's IP (`hostname -i`) at $PGPORT
# (default 5432), its unix socket in /var/run/postgresql (a tmpfs private to the
# container). PostgreSQL refuses to run as root: as root, it chowns $PGDATA and drops to
# the host's `postgres` user. A $PGDATA that is no volume gets a tmpfs (the container's
# own writable layer), so nothing is written to the host's folder. Anything else as
# arguments is run as is.
set -eu

case "${1:-postgres}" in
  -*) set -- postgres "$@" ;;
esac
if [ "${1:-postgres}" != postgres ]; then exec "$@"; fi
[ $# -gt 0 ] && shift

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
port="${PGPORT:-5432}"
ip="$(hostname -i | cut -d' ' -f1)"
sockets=/var/run/postgresql
cd /

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else
    "$@"
  fi
}

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" "$sockets"
  if ! mountpoint -q "$PGDATA" && ! mountpoint -q "$(dirname "$PGDATA")"; then
    mount -t tmpfs -o mode=0700 pgdata "$PGDATA"
  fi
  mount -t tmpfs -o mode=2775 pgrun "$sockets"
  chown postgres:postgres "$sockets"
  chown -R postgres:postgres "$PGDATA"
  chmod 0700 "$PGDATA"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
    echo 'Error: Database is uninitialized and superuser password is not specified.' >&2
    echo '       You must specify POSTGRES_PASSWORD to a non-empty value for the superuser.' >&2
    exit 1
  fi
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-}" > "$pwfile"
  [ "$(id -u)" = 0 ] && chown postgres "$pwfile"
  # shellcheck disable=SC2086
  as_postgres initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" ${POSTGRES_INITDB_ARGS:-} >&2
  rm -f "$pwfile"
  printf '\nhost all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"
  as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -k $sockets -p $port" -w start >&2
  if [ "$POSTGRES_DB" != postgres ]; then
    as_postgres psql -v ON_ERROR_STOP=1 -h "$sockets" -p "$port" -U "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\"" >&2
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) echo "running $f" >&2; as_postgres psql -v ON_ERROR_STOP=1 -h "$sockets" -p "$port" -U "$POSTGRES_USER" -d "$POSTGRES_DB" -f "$f" >&2 ;;
      *.sh) echo "running $f" >&2; PGHOST="$sockets" PGPORT="$port" . "$f" ;;
    esac
  done
  as_postgres pg_ctl -D "$PGDATA" -m fast -w stop >&2
  echo 'PostgreSQL init process complete; ready for start up.' >&2
fi

if [ "$(id -u)" = 0 ]; then
  exec setpriv --reuid=postgres --regid=postgres --init-groups -- postgres -c listen_addresses="$ip" -k "$sockets" -p "$port" "$@"
fi
exec postgres -c listen_addresses="$ip" -k "$sockets" -p "$port" "$@"
