#!/usr/bin/env bash
# bench/contention.sh — do reads wait behind logins, edits and restores?
# (issue 10). Quiet and loaded figures side by side, in one run:
#
#   1. the bundled map, `serve --threads 2`: wrk reads one genre detail
#      (/api/v1/genres/thrash-metal, 8 connections) for BENCH_CONTENTION_DURATION
#      seconds alone ("quiet"), then again while bench/contention-load.mjs runs
#      two clients that log in continuously and one admin who creates and
#      deletes a genre in a loop ("logins + edits"); quiet and loaded runs
#      alternate BENCH_CONTENTION_ROUNDS times;
#   2. the large synthetic map (bench/gen-dataset.mjs, seeded): wrk reads a
#      genre detail alone, then while `musicgraph restore` of a backup of the
#      same map runs again and again beside the server ("restore").
#
# Targets: loaded read p99 < 10 ms and loaded req/s >= 50% of quiet; read p99
# < 10 ms during restores. Reported, never asserted.
#
#   bench/contention.sh                                # build/musicgraph
#   MUSICGRAPH_BIN=… BENCH_CONTENTION_OUT=out.json bench/contention.sh
#   BENCH_DATASET=big.json bench/contention.sh         # reuse a generated map
#
# bench/run calls it and folds its JSON into results.json. Knobs:
# BENCH_CONTENTION_DURATION (s per wrk run, 10), BENCH_CONTENTION_ROUNDS (2),
# BENCH_CONTENTION_CONNECTIONS (8), BENCH_SERVER_THREADS (2), BENCH_SEED (1).
# Everything started here is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MUSICGRAPH_BIN:-build/musicgraph}
DURATION=${BENCH_CONTENTION_DURATION:-10}
ROUNDS=${BENCH_CONTENTION_ROUNDS:-2}
CONNS=${BENCH_CONTENTION_CONNECTIONS:-8}
THREADS=${BENCH_SERVER_THREADS:-2}
SEED=${BENCH_SEED:-1}
[[ -x $BIN ]] || { echo "contention: $BIN is missing (run: make build)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "contention: wrk is missing (apt-get install wrk)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/musicgraph-contention.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
unset MUSICGRAPH_STATE_DIR MUSICGRAPH_DATABASE_URL DATABASE_URL MUSICGRAPH_BACKUP_DIR MUSICGRAPH_BACKUP_OFFSITE
export MUSICGRAPH_LOG_LEVEL=warn
export MUSICGRAPH_ADMIN_PASSWORD=contention-bench-password-1
say() { printf 'contention: %s\n' "$*" >&2; }

free_port() {
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Starts a server on STATE, waits for /healthz; sets URL. (Not in a command
# substitution: its subshell would keep the PID, and the server would
# outlive the run.)
serve() {
    local state=$1 port
    port=$(free_port)
    "$BIN" serve --listen "127.0.0.1:$port" --state-dir "$state" --threads "$THREADS" >"$state.log" 2>&1 &
    PIDS+=($!)
    local deadline=$((SECONDS + 60))
    until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz" || true) == 200 ]]; do
        ((SECONDS < deadline)) || { cat "$state.log" >&2; exit 1; }
        sleep 0.05
    done
    URL="http://127.0.0.1:$port"
}

# wrk on URL for DURATION s: prints wrk-report.lua's JSON summary.
reads() {
    local out
    out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s bench/wrk-report.lua "$1")
    grep '^BENCH ' <<<"$out" | head -n 1 | cut -c7-
}

# Waits until the server has laid the map out (no background layout during the load).
wait_layout() {
    node -e '
const url = process.argv[1], t0 = Date.now();
(async () => {
  for (;;) {
    const doc = await (await fetch(url + "/api/v1/graph")).json();
    if (doc.genres.every((g) => Number.isFinite(g.x))) return;
    if (Date.now() - t0 > 180000) throw new Error("no positions after 180 s");
    await new Promise((r) => setTimeout(r, 200));
  }
})().catch((e) => { console.error(e.message); process.exit(1); });' "$1"
}

load_at() { cut -d' ' -f1 /proc/loadavg; }

# 1. Logins and edits on the bundled map.
say "bundled map: $ROUNDS rounds of ${DURATION}s quiet and ${DURATION}s with 2 login clients and 1 editor"
serve "$TMP/small"
wait_layout "$URL"
GENRE=/api/v1/genres/thrash-metal
wrk -t2 -c"$CONNS" -d2s "$URL$GENRE" >/dev/null
: >"$TMP/small.jsonl"
for ((r = 1; r <= ROUNDS; r++)); do
    printf '{"part":"quiet","round":%d,"load":"%s","wrk":%s}\n' "$r" "$(load_at)" "$(reads "$URL$GENRE")" >>"$TMP/small.jsonl"
    node bench/contention-load.mjs "$URL" "$((DURATION + 1))" 2 1 >"$TMP/load.json" &
    loader=$!
    sleep 0.5
    wrk_json=$(reads "$URL$GENRE")
    wait "$loader"
    printf '{"part":"logins_edits","round":%d,"load":"%s","wrk":%s,"writers":%s}\n' "$r" "$(load_at)" "$wrk_json" \
        "$(cat "$TMP/load.json")" >>"$TMP/small.jsonl"
done

# 2. Restores of the large map.
if [[ -n ${BENCH_DATASET:-} ]]; then
    cp "$BENCH_DATASET" "$TMP/big.json"
else
    say "generating the large map (seed $SEED)"
    node bench/gen-dataset.mjs "$TMP/big.json" --seed "$SEED" 2>/dev/null
fi
"$BIN" seed --file "$TMP/big.json" --state-dir "$TMP/big" >/dev/null
BACKUP=$("$BIN" backup --state-dir "$TMP/big" --to "$TMP/backups" | sed -n 's/^backup written: \([^ ]*\) .*/\1/p')
serve "$TMP/big"
say "large map: waiting for the server's layout"
wait_layout "$URL"
BIG_GENRE=/api/v1/genres/$(node -e 'const d=require(process.argv[1]);console.log(d.genres.find(g=>g.type==="leaf").id)' "$TMP/big.json")
wrk -t2 -c"$CONNS" -d2s "$URL$BIG_GENRE" >/dev/null
: >"$TMP/big.jsonl"
for ((r = 1; r <= ROUNDS; r++)); do
    say "large map: round $r, quiet then restores"
    printf '{"part":"quiet_large","round":%d,"load":"%s","wrk":%s}\n' "$r" "$(load_at)" "$(reads "$URL$BIG_GENRE")" >>"$TMP/big.jsonl"
    (
        end=$((SECONDS + DURATION))
        while ((SECONDS < end)); do
            t0=$(date +%s%N)
            "$BIN" restore "$BACKUP" --state-dir "$TMP/big" >/dev/null
            echo $((($(date +%s%N) - t0) / 1000000))
        done >"$TMP/restores.txt"
    ) &
    restorer=$!
    wrk_json=$(reads "$URL$BIG_GENRE")
    wait "$restorer"
    printf '{"part":"restore","round":%d,"load":"%s","wrk":%s,"restore_ms":[%s]}\n' "$r" "$(load_at)" "$wrk_json" \
        "$(paste -sd, "$TMP/restores.txt")" >>"$TMP/big.jsonl"
done
grep -c 'snapshot .* published' "$TMP/big.log" >"$TMP/rebuilds.txt" || true

node -e '
const fs = require("fs");
const rows = [process.argv[1], process.argv[2]].flatMap((p) => fs.readFileSync(p, "utf8").trim().split("\n").map(JSON.parse));
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const parts = {};
for (const r of rows) (parts[r.part] ||= []).push(r);
const summary = {};
for (const [name, runs] of Object.entries(parts)) {
  summary[name] = {
    rps: Math.round(med(runs.map((r) => r.wrk.requests / (r.wrk.duration_us / 1e6)))),
    p50_ms: med(runs.map((r) => r.wrk.latency_us.p50 / 1000)),
    p99_ms: med(runs.map((r) => r.wrk.latency_us.p99 / 1000)),
    max_ms: Math.max(...runs.map((r) => r.wrk.latency_us.max / 1000)),
    errors: runs.reduce((n, r) => n + Object.values(r.wrk.errors).reduce((a, b) => a + b, 0), 0),
    runs,
  };
}
console.log(JSON.stringify({ binary: process.argv[6], connections: +process.argv[3], duration_s: +process.argv[4], rounds: +process.argv[5], summary }));
' "$TMP/small.jsonl" "$TMP/big.jsonl" "$CONNS" "$DURATION" "$ROUNDS" "$("$BIN" version | head -n 1)" >"$TMP/out.json"
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).summary;
const line = (n, s) => console.log(`${n.padEnd(16)} ${String(s.rps).padStart(8)} ${s.p50_ms.toFixed(2).padStart(8)} ${s.p99_ms.toFixed(2).padStart(8)} ${s.max_ms.toFixed(1).padStart(8)} ${String(s.errors).padStart(6)}`);
console.log(`${"reads during".padEnd(16)} ${"req/s".padStart(8)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"max ms".padStart(8)} ${"errors".padStart(6)}`);
for (const k of ["quiet", "logins_edits", "quiet_large", "restore"]) if (r[k]) line(k, r[k]);
const w = r.logins_edits.runs.map((x) => x.writers);
console.log(`writers: ${w.map((x) => `${x.logins.done} logins (p99 ${x.logins.p99_ms} ms, ${x.logins.failed} failed), ${x.edits.done} edits (p99 ${x.edits.p99_ms} ms, ${x.edits.failed} failed)`).join("; ")}`);
console.log(`restores: ${r.restore.runs.map((x) => x.restore_ms.join(", ") + " ms").join("; ")}`);
' "$TMP/out.json" >&2
if [[ -n ${BENCH_CONTENTION_OUT:-} ]]; then cp "$TMP/out.json" "$BENCH_CONTENTION_OUT"; else cat "$TMP/out.json"; fi
