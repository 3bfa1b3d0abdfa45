#!/usr/bin/env bash
# bench/backup-bench.sh — timings of backup, verify and restore on the large
# synthetic dataset (issue 5 targets: backup < 2 s, verify < 2 s,
# restore < 5 s; backup size and peak RSS (GNU time) reported), signed (as
# every backup is) and signed + encrypted (issue 18: a passphrase, local
# backups encrypted) side by side in one run.
#
#   bench/backup-bench.sh                 # build/musicgraph, 5 runs each
#   MUSICGRAPH_BIN=… BENCH_RUNS=9 BENCH_BACKUP_OUT=out.json bench/backup-bench.sh
#   BENCH_STATE_DIR=DIR bench/backup-bench.sh   # an already seeded state
#
# bench/run calls it with BENCH_STATE_DIR (a copy of its own seeded state,
# backed up and restored in place) and folds the JSON into results.json.
#
# Steps: generate the dataset (bench/gen-dataset.mjs, the same one bench/run
# uses: 2,220 genres, 20,000 bands), seed a fresh state directory (both
# skipped with BENCH_STATE_DIR), then time
# each command as a whole process (what an operator waits for), BENCH_RUNS
# times per mode, and report the median and the slowest. The JSON keeps the
# signed figures at its top level (as before) and the encrypted ones under
# "encrypted", the PostgreSQL ones under "postgres" (issue 12: the same
# targets on both backends; a throwaway durable cluster on loopback,
# tests/tools/postgres-cluster.mjs, the map moved there by export and
# import; skipped, and said, without PostgreSQL or with
# BENCH_BACKUP_POSTGRES=0). Restore includes its checks
# and the safety backup it takes first. Prints a table and one JSON line
# (also written to BENCH_BACKUP_OUT when set). Everything lives in one
# temporary directory, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MUSICGRAPH_BIN:-build/musicgraph}
RUNS=${BENCH_RUNS:-5}
SEED=${BENCH_SEED:-1}
[[ -x $BIN ]] || { echo "backup-bench: $BIN is missing (run: make build)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/musicgraph-backup-bench.XXXXXX")
pg_hold=
cleanup() {
    # Closing the cluster's stdin stops and removes it.
    [[ -n $pg_hold ]] && exec {pg_hold}>&- && wait
    rm -rf "$TMP"
}
trap cleanup EXIT
export MUSICGRAPH_LOG_LEVEL=warn
unset MUSICGRAPH_STATE_DIR MUSICGRAPH_DATABASE_URL DATABASE_URL MUSICGRAPH_BACKUP_DIR MUSICGRAPH_BACKUP_OFFSITE

if [[ -n ${BENCH_STATE_DIR:-} ]]; then
    [[ -f $BENCH_STATE_DIR/musicgraph.db ]] || { echo "backup-bench: no musicgraph.db in $BENCH_STATE_DIR" >&2; exit 1; }
    STATE=$BENCH_STATE_DIR
    echo "state $STATE" >"$TMP/gen.log"
else
    STATE=$TMP/state
    node bench/gen-dataset.mjs "$TMP/dataset.json" --seed "$SEED" 2>"$TMP/gen.log"
    "$BIN" seed --file "$TMP/dataset.json" --state-dir "$STATE" >/dev/null
fi

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
# Peak resident memory (KiB) of the last timed command, with GNU time; 0 without it.
rss_of() { if [[ -x /usr/bin/time ]]; then /usr/bin/time -f %M -o "$TMP/rss" "$@"; else "$@"; echo 0 >"$TMP/rss"; fi; }
peak() { cat "$TMP/rss"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
slowest() { sort -n | tail -n 1; }

# One mode, RUNS times: backup into a fresh directory, verify, restore.
# Sets the arrays *_ms and *_kib and file (the last backup).
measure() {
    backup_ms=() verify_ms=() restore_ms=() backup_kib=() verify_kib=() restore_kib=()
    local i t0 out
    for ((i = 0; i < RUNS; i++)); do
        t0=$(date +%s%N)
        out=$(rss_of "$BIN" backup --state-dir "$STATE" --to "$TMP/$1$i")
        backup_ms+=("$(ms "$t0")") backup_kib+=("$(peak)")
        file=$(sed -n 's/^backup written: \([^ ]*\) .*/\1/p' <<<"$out")
        t0=$(date +%s%N)
        rss_of "$BIN" verify "$file" --state-dir "$STATE" >/dev/null
        verify_ms+=("$(ms "$t0")") verify_kib+=("$(peak)")
        t0=$(date +%s%N)
        rss_of "$BIN" restore "$file" --state-dir "$STATE" >/dev/null
        restore_ms+=("$(ms "$t0")") restore_kib+=("$(peak)")
    done
}
all() { local IFS=,; echo "[$*]"; }
# The figures of the last measure as JSON members, and its table rows (label $1).
summarize() {
    local b_med b_max v_med v_max r_med r_max b_kib v_kib r_kib size
    b_med=$(printf '%s\n' "${backup_ms[@]}" | median); b_max=$(printf '%s\n' "${backup_ms[@]}" | slowest)
    v_med=$(printf '%s\n' "${verify_ms[@]}" | median); v_max=$(printf '%s\n' "${verify_ms[@]}" | slowest)
    r_med=$(printf '%s\n' "${restore_ms[@]}" | median); r_max=$(printf '%s\n' "${restore_ms[@]}" | slowest)
    b_kib=$(printf '%s\n' "${backup_kib[@]}" | slowest); v_kib=$(printf '%s\n' "${verify_kib[@]}" | slowest)
    r_kib=$(printf '%s\n' "${restore_kib[@]}" | slowest)
    size=$(stat -c %s "$file")
    printf '%-10s %-9s %10s %10s %10s %12s  %s\n' backup "$1" "$b_med" "$b_max" 2000 "$b_kib" "$(verdict "$b_max" 2000)" >>"$TMP/table"
    printf '%-10s %-9s %10s %10s %10s %12s  %s\n' verify "$1" "$v_med" "$v_max" 2000 "$v_kib" "$(verdict "$v_max" 2000)" >>"$TMP/table"
    printf '%-10s %-9s %10s %10s %10s %12s  %s\n' restore "$1" "$r_med" "$r_max" 5000 "$r_kib" "$(verdict "$r_max" 5000)" >>"$TMP/table"
    printf '"backup_ms":{"median":%d,"max":%d,"all":%s},"verify_ms":{"median":%d,"max":%d,"all":%s},"restore_ms":{"median":%d,"max":%d,"all":%s},"peak_rss_kib":{"backup":%d,"verify":%d,"restore":%d},"backup_bytes":%d' \
        "$b_med" "$b_max" "$(all "${backup_ms[@]}")" "$v_med" "$v_max" "$(all "${verify_ms[@]}")" \
        "$r_med" "$r_max" "$(all "${restore_ms[@]}")" "$b_kib" "$v_kib" "$r_kib" "$size"
}
verdict() { if (($1 < $2)); then echo ok; else echo SLOW; fi; }

# Signed (every backup is), then signed and encrypted (a passphrase,
# Argon2id at its default costs, local backups encrypted), side by side in
# one run. A restore includes its safety backup (encrypted too in the
# second mode).
: >"$TMP/table"
measure signed
signed=$(summarize signed)
json_bytes=$(zcat "$file" | wc -c)
printf 'bench passphrase of backup-bench\n' >"$TMP/passphrase"
export MUSICGRAPH_BACKUP_ENCRYPT=1 MUSICGRAPH_BACKUP_PASSPHRASE_FILE=$TMP/passphrase
measure encrypted
encrypted=$(summarize encrypted)
unset MUSICGRAPH_BACKUP_ENCRYPT MUSICGRAPH_BACKUP_PASSPHRASE_FILE
db=$(stat -c %s "$STATE/musicgraph.db")

# The same signed steps on PostgreSQL. The map goes there as an operator
# would move it (export, trust the exporting key, import); the accounts
# with it, since the key is trusted.
postgres='"skipped":"BENCH_BACKUP_POSTGRES=0"'
if [[ ${BENCH_BACKUP_POSTGRES:-1} != 0 ]]; then
    mkfifo "$TMP/pg.in"
    node tests/tools/postgres-cluster.mjs --durable <"$TMP/pg.in" >"$TMP/pg.out" 2>&1 &
    pg_pid=$!
    exec {pg_hold}>"$TMP/pg.in"
    for _ in $(seq 1 600); do
        [[ -s $TMP/pg.out ]] || ! kill -0 "$pg_pid" 2>/dev/null && break
        sleep 0.1
    done
    base=$(head -1 "$TMP/pg.out")
    if [[ $base == postgres://* ]]; then
        psql -X -q -d "$base/postgres" -c 'CREATE DATABASE backup_bench' >/dev/null
        sqlite_state=$STATE
        STATE=$TMP/pg-state
        "$BIN" export "$TMP/move.json.gz" --state-dir "$sqlite_state" >/dev/null
        "$BIN" backup-key show --state-dir "$sqlite_state" >"$TMP/move.pub"
        export MUSICGRAPH_DATABASE_URL=$base/backup_bench
        "$BIN" backup-key trust "$TMP/move.pub" --state-dir "$STATE" >/dev/null
        "$BIN" import "$TMP/move.json.gz" --state-dir "$STATE" >/dev/null
        measure postgres
        postgres=$(summarize postgres)
        unset MUSICGRAPH_DATABASE_URL
        STATE=$sqlite_state
    else
        postgres=$(printf '"skipped":"%s"' "$(head -1 "$TMP/pg.out" | sed 's/^none$/PostgreSQL is not installed/; s/"/'"'"'/g')")
        echo "backup-bench: PostgreSQL skipped: $(head -1 "$TMP/pg.out")" >&2
    fi
fi

echo "dataset: $(cat "$TMP/gen.log")"
printf '%-10s %-9s %10s %10s %10s %12s  %s\n' step mode "median ms" "max ms" "target ms" "peak RSS KiB" verdict
cat "$TMP/table"
echo "backup size: signed $(sed 's/.*"backup_bytes":\([0-9]*\).*/\1/' <<<"$signed") bytes gzip ($json_bytes bytes of JSON), encrypted $(sed 's/.*"backup_bytes":\([0-9]*\).*/\1/' <<<"$encrypted") bytes; database: $db bytes; runs: $RUNS"
line=$(printf '{"runs":%d,%s,"backup_json_bytes":%d,"database_bytes":%d,"nproc":%d,"encrypted":{%s},"postgres":{%s}}' \
    "$RUNS" "$signed" "$json_bytes" "$db" "$(nproc)" "$encrypted" "$postgres")
echo "$line"
[[ -n ${BENCH_BACKUP_OUT:-} ]] && echo "$line" >"$BENCH_BACKUP_OUT"
exit 0
