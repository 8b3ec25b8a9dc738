#!/usr/bin/env bash
# Throw-away PostgreSQL 15 clusters for the tests and benchmarks (never the system's cluster):
#   Scripts/pg-cluster.sh primary DIR PORT PASSWORD   initdb in DIR/primary, start it on 127.0.0.1:PORT and a
#                                                     socket in DIR/socket; a role and database "probity"
#                                                     (password PASSWORD, scram-sha-256, may create databases
#                                                     for baselines), replication allowed
#   Scripts/pg-cluster.sh standby DIR PORT PRIMARY    a streaming standby of the primary on port PRIMARY
#                                                     (pg_basebackup -R), in DIR/standby on PORT
#   Scripts/pg-cluster.sh stop DIR [NAME]             stops DIR's clusters (or NAME: primary, standby), fast
#   Scripts/pg-cluster.sh start DIR NAME              starts NAME (primary, standby) again after a stop
#   Scripts/pg-cluster.sh kill DIR NAME               SIGKILLs NAME's postmaster (a crash)
# As root, the clusters run as the postgres user (PostgreSQL refuses root); otherwise as the caller.
set -euo pipefail
# The servers outlive this script: they must not keep a descriptor the caller waits on (a test reads this
# script's output until every writer of its pipe has closed it). Only 0–2 are passed on, and pg_ctl's -l
# sends the servers' output to their log.
for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-" 2>/dev/null || true; done
bin=/usr/lib/postgresql/15/bin
[ -x "$bin/initdb" ] || { echo "PostgreSQL 15 is not installed (apt-get install postgresql-15)" >&2; exit 2; }
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cmd=$1 dir=$2
case "$cmd" in
primary)
  port=$3 password=$4
  mkdir -p "$dir/socket"
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
  printf '%s\n' "$password" >"$dir/pwfile"; chmod 600 "$dir/pwfile"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/pwfile"
  as_owner "$bin/initdb" -D "$dir/primary" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --pwfile="$dir/pwfile" -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
  cat >>"$dir/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/socket'
wal_level = replica
max_wal_senders = 5
hot_standby = on
fsync = on
synchronous_commit = on
CONF
  echo "host replication postgres 127.0.0.1/32 scram-sha-256" >>"$dir/primary/pg_hba.conf"
  as_owner "$bin/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w -t 60 start </dev/null >/dev/null 2>&1
  as_owner "$bin/psql" -h "$dir/socket" -p "$port" -U postgres -q -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE probity LOGIN CREATEDB PASSWORD '$password'" -c "CREATE DATABASE probity OWNER probity" >/dev/null
  ;;
standby)
  port=$3 primary=$4
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
  printf '127.0.0.1:%s:*:postgres:%s\n' "$primary" "$(cat "$dir/pwfile")" >"$dir/replpass"; chmod 600 "$dir/replpass"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/replpass"
  as_owner env PGPASSFILE="$dir/replpass" "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary" -U postgres \
    -D "$dir/standby" -R -X stream -c fast >/dev/null
  cat >>"$dir/standby/postgresql.conf" <<CONF
port = $port
primary_conninfo = 'host=127.0.0.1 port=$primary user=postgres passfile=$dir/replpass'
CONF
  as_owner "$bin/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -w -t 60 start </dev/null >/dev/null 2>&1
  ;;
stop)
  for name in ${3:-standby primary}; do
    [ -f "$dir/$name/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/$name" -m fast -w stop >/dev/null || true
  done
  ;;
start)
  as_owner "$bin/pg_ctl" -D "$dir/$3" -l "$dir/$3.log" -w -t 60 start </dev/null >/dev/null 2>&1
  ;;
kill)
  pid=$(head -1 "$dir/$3/postmaster.pid")
  kill -KILL "$pid"
  ;;
*) echo "usage: $0 primary|standby|stop|start|kill DIR ..." >&2; exit 2 ;;
esac
