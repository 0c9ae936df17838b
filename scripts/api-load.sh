#!/usr/bin/env bash
# The local API under load (docs/benchmarks.md, "The local API under load"): `trip-local serve`
# (release build, in-memory store, virtual time) driven by oha with POST /trips at a few
# concurrency levels, then GET /health; the server's resident memory before and after each
# level. Usage: [OHA_ROOT=dir] [TRIP_LOCAL=binary] [SERVE_ARGS=…] scripts/api-load.sh [REQUESTS_PER_LEVEL] [LEVELS...]
#   scripts/api-load.sh                 # 20,000 requests at 1, 16, 64 and 256
#   scripts/api-load.sh 100000 64       # 100,000 bookings at 64
set -euo pipefail
cd "$(dirname "$0")/.."

requests="${1:-20000}"
shift || true
levels=("${@:-1 16 64 256}")
# shellcheck disable=SC2206 # the default is one word of levels
levels=(${levels[*]})

# oha, pinned; installed next to the build's target directory on first use.
OHA_VERSION=1.16.0
oha_root="${OHA_ROOT:-$PWD/target/tools}"
oha="$oha_root/bin/oha"
if [[ ! -x "$oha" ]] || [[ "$("$oha" --version)" != *"$OHA_VERSION"* ]]; then
  cargo install --quiet --locked oha --version "$OHA_VERSION" --root "$oha_root"
fi

# TRIP_LOCAL=path measures that binary instead of building the release one.
if [[ -z "${TRIP_LOCAL:-}" ]]; then
  cargo build --quiet --release -p trip-local --bin trip-local
  TRIP_LOCAL=target/release/trip-local
fi
log=$(mktemp)
# SERVE_ARGS: where the store is, e.g. "--dynamodb-endpoint http://127.0.0.1:5555" (in memory
# by default).
# shellcheck disable=SC2086 # word splitting of SERVE_ARGS is the point
"$TRIP_LOCAL" ${SERVE_ARGS:-} serve --port 0 >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  grep -q "Ctrl-C" "$log" && break
  sleep 0.1
done
base=$(grep -o 'API on http://[0-9.:]*' "$log" | head -1 | sed 's/API on //')
[[ -n "$base" ]] || { cat "$log"; echo "serve did not start" >&2; exit 1; }

rss_mib() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$server/status"; }
# The demo booking without `trip_id`: the API gives each request a trip of its own. NH106 has
# 200 seats a day, so after 100 bookings the rest find it sold out and are compensated: the
# load is a mix of the happy path and the compensating one, as a sale's last minutes are.
body='{"flight":{"flight_number":"NH106","date":"2026-12-01","passengers":2},"hotel":{"hotel":"TOKYO01","stay":{"start":"2026-12-01","end":"2026-12-04"},"guests":2},"payment":{"card":"tok_visa_4242"}}'

printf '| concurrency | requests | req/s | p50 ms | p99 ms | max ms | non-202 | RSS before MiB | RSS after MiB |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for c in "${levels[@]}"; do
  before=$(rss_mib)
  json=$("$oha" --no-tui --output-format json -n "$requests" -c "$c" -m POST \
    -H 'Content-Type: application/json' -d "$body" "$base/trips")
  # Let the accepted executions end before the memory is read.
  for _ in $(seq 600); do
    curl -s "$base/health" | grep -q '"running":0' && break
    sleep 0.1
  done
  after=$(rss_mib)
  python3 - "$c" "$requests" "$before" "$after" "$json" <<'EOF'
import json, sys
c, n, before, after, raw = sys.argv[1:]
r = json.loads(raw)
ms = lambda s: f"{s * 1000:.2f}" if s is not None else "-"
codes = r.get("statusCodeDistribution", {})
other = sum(v for k, v in codes.items() if k != "202") + sum(r.get("errorDistribution", {}).values())
p = r["latencyPercentiles"]
print(f"| {c} | {n} | {r['summary']['requestsPerSec']:,.0f} | {ms(p['p50'])} | {ms(p['p99'])} | {ms(r['summary']['slowest'])} | {other} | {before} | {after} |")
EOF
done
health=$(curl -s -o /dev/null -w '%{time_total}' "$base/health")
echo
echo "GET /health after all of it: $(curl -s "$base/health")"
echo "GET /health took ${health} s; server RSS $(rss_mib) MiB"
