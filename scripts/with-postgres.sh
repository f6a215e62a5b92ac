#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server.
#
#   scripts/with-postgres.sh CMD [ARGS...]
#
# Creates a temporary cluster (trust auth, no fsync) listening on a free
# loopback port, creates the database `recur_test`, exports
#   RECUR_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:PORT/recur_test
# runs CMD, then stops the server and deletes the cluster. CMD's exit code is
# propagated. If RECUR_TEST_POSTGRES_URL is already set, CMD is just run.
#
# PostgreSQL refuses to run as root, so as root the server runs as the
# `postgres` OS user (created if missing).
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

if [[ -n "${RECUR_TEST_POSTGRES_URL:-}" ]]; then
    exec "$@"
fi

log() { echo "with-postgres: $*" >&2; }

# --- locate the server binaries ---------------------------------------------
pg_bin=""
if initdb_path="$(command -v initdb 2>/dev/null)"; then
    pg_bin="$(dirname "$(readlink -f "$initdb_path")")"
else
    latest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$latest" && -x "$latest/initdb" ]]; then
        pg_bin="$latest"
    fi
fi
if [[ -z "$pg_bin" ]]; then
    log "PostgreSQL server binaries (initdb) not found; run 'make system-deps'"
    exit 1
fi
for tool in initdb pg_ctl postgres createdb; do
    if [[ ! -x "$pg_bin/$tool" ]]; then
        log "$pg_bin/$tool not found"
        exit 1
    fi
done

# --- who runs the server ----------------------------------------------------
as_pg=()
if [[ "$(id -u)" -eq 0 ]]; then
    if ! id -u postgres >/dev/null 2>&1; then
        if getent group postgres >/dev/null 2>&1; then
            useradd -r -g postgres -M -s /usr/sbin/nologin postgres
        else
            useradd -r -U -M -s /usr/sbin/nologin postgres
        fi
    fi
    as_pg=(runuser -u postgres --)
fi

tmpdir="$(mktemp -d "${TMPDIR:-/tmp}/recur-pg.XXXXXX")"
datadir="$tmpdir/data"
logfile="$tmpdir/server.log"
if [[ ${#as_pg[@]} -gt 0 ]]; then
    chown postgres: "$tmpdir"
fi

# Run a server-side tool from inside the temp dir (the invoking cwd may not be
# readable by the postgres user).
pg() { (cd "$tmpdir" && "${as_pg[@]}" "$@"); }

started=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ $started -eq 1 ]]; then
        pg "$pg_bin/pg_ctl" -D "$datadir" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$tmpdir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- create and start the cluster -------------------------------------------
if ! pg "$pg_bin/initdb" -D "$datadir" -U postgres --auth=trust -E UTF8 --no-sync \
        >"$tmpdir/initdb.log" 2>&1; then
    log "initdb failed:"
    cat "$tmpdir/initdb.log" >&2
    exit 1
fi

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# The port is free when picked but could be taken before the server binds it:
# retry a few times.
port=""
for _attempt in 1 2 3; do
    port="$(free_port)"
    if pg "$pg_bin/pg_ctl" -D "$datadir" -l "$logfile" -w -t 60 \
            -o "-h 127.0.0.1 -p $port -k $tmpdir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null 2>&1; then
        started=1
        break
    fi
    # A failed start may still leave a postmaster behind.
    pg "$pg_bin/pg_ctl" -D "$datadir" -m immediate -w stop >/dev/null 2>&1 || true
done
if [[ $started -ne 1 ]]; then
    log "PostgreSQL failed to start:"
    cat "$logfile" >&2 2>/dev/null || true
    exit 1
fi

"$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres recur_test

export RECUR_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/recur_test"
log "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"

"$@"
