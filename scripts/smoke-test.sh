#!/usr/bin/env bash
# The smoke test of a deployed stage: two trips booked through its API, each followed with
# `GET /trips/{id}` until the saga settles.
#   1. a card that pays: the trip must be CONFIRMED, its seats and room RESERVED, its payment
#      CAPTURED;
#   2. the declining test card (payment's `tok_decline…` tokens): the trip must be CANCELLED and
#      its compensations done: the seats and the room given back (CANCELLED), no payment kept.
# The delivery pipeline runs it after deploying dev (infra/lib/pipeline.ts); run it against your
# own stage with the API URL that `make deploy` prints (the stack's `ApiUrl` output):
#
#   scripts/smoke-test.sh https://<api-id>.execute-api.<region>.amazonaws.com/dev/
#
# Requests are signed with SigV4 with the credentials of the environment (AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, and AWS_SESSION_TOKEN for temporary ones: `eval "$(aws configure
# export-credentials --format env)"` sets them from a profile); the identity needs only
# execute-api:Invoke on POST /trips and GET /trips/* of that stage. The stage's table must hold
# the demo catalogue (`make deploy STAGE=dev` puts it on sale; so does the pipeline).
#
# Environment: SMOKE_DATE (a departure from 2026-12-01 to 2026-12-14; default: one of them at
# random, so that repeated runs spread over the catalogue's stock), SMOKE_TIMEOUT (seconds to
# wait for each trip to settle, default 180), SMOKE_REGION (for a URL that does not name one,
# e.g. the local API of `trip-local serve`, which ignores signatures).
set -euo pipefail

url="${1:-${API_URL:-}}"
if [[ -z "$url" ]]; then
  echo "usage: $0 <API URL>   (the stack's ApiUrl output, e.g. https://<api-id>.execute-api.<region>.amazonaws.com/dev/)" >&2
  exit 2
fi
url="${url%/}/"
if [[ -z "${AWS_ACCESS_KEY_ID:-}" || -z "${AWS_SECRET_ACCESS_KEY:-}" ]]; then
  echo "no AWS credentials in the environment: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), e.g. eval \"\$(aws configure export-credentials --format env)\"" >&2
  exit 2
fi
region="${SMOKE_REGION:-$(sed -nE 's#^https://[^.]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com.*#\1#p' <<<"$url")}"
if [[ -z "$region" ]]; then
  echo "cannot read the region from $url: set SMOKE_REGION" >&2
  exit 2
fi
timeout="${SMOKE_TIMEOUT:-180}"

# The demo catalogue (apps/trip-local/src/store.rs): flight NH106 every day from 2026-12-01 for
# 14 days, hotel TOKYO01 every night from then on. One night's stay, one traveller: a run holds
# one seat and one room-night, the fewest a confirmed trip can.
day="${SMOKE_DATE:-$(python3 -c 'import datetime, random; print(datetime.date(2026, 12, 1) + datetime.timedelta(days=random.randrange(14)))')}"
next=$(python3 -c 'import datetime, sys; print(datetime.date.fromisoformat(sys.argv[1]) + datetime.timedelta(days=1))' "$day")

signed=(--aws-sigv4 "aws:amz:${region}:execute-api" --user "${AWS_ACCESS_KEY_ID}:${AWS_SECRET_ACCESS_KEY}")
if [[ -n "${AWS_SESSION_TOKEN:-}" ]]; then
  signed+=(-H "x-amz-security-token: ${AWS_SESSION_TOKEN}")
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Books a trip paid with card $2 under the id $1; fails unless the API accepts it (202).
book() {
  local trip=$1 card=$2 status
  local body="{\"flight\":{\"flight_number\":\"NH106\",\"date\":\"$day\",\"passengers\":1},\"hotel\":{\"hotel\":\"TOKYO01\",\"stay\":{\"start\":\"$day\",\"end\":\"$next\"},\"guests\":1},\"payment\":{\"card\":\"$card\"}}"
  status=$(curl -sS -o "$work/post" -w '%{http_code}' -X POST "${url}trips" "${signed[@]}" \
    -H 'Content-Type: application/json' -H "Idempotency-Key: $trip" -d "$body")
  if [[ "$status" != 202 ]]; then
    echo "FAIL POST /trips ($card): HTTP $status, expected 202: $(cat "$work/post")" >&2
    return 1
  fi
}

# Prints the trip $1 once its status is no longer PENDING (a 404 means the saga has not
# written it yet); fails after $timeout seconds.
settled() {
  local trip=$1 status deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    status=$(curl -sS -o "$work/get" -w '%{http_code}' "${url}trips/$trip" "${signed[@]}")
    if [[ "$status" == 200 ]] && python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["status"] in (None, "PENDING"))' "$work/get"; then
      cat "$work/get"
      return 0
    fi
    if [[ "$status" != 200 && "$status" != 404 ]]; then
      echo "FAIL GET /trips/$trip: HTTP $status: $(cat "$work/get")" >&2
      return 1
    fi
    sleep 2
  done
  echo "FAIL GET /trips/$trip: still not settled after ${timeout}s: $(cat "$work/get")" >&2
  return 1
}

# Checks the settled trip (JSON on stdin) against the expected status and bookings; explains the
# two failures that come from the stage's data rather than its code: a day sold out (a dev stage
# that has run many smoke tests) and a catalogue that was never seeded.
expect() {
  python3 -c '
import json, sys
want = dict(arg.split("=", 1) for arg in sys.argv[1:])
trip = json.load(sys.stdin)
bookings = trip["bookings"]
got = {
    "status": trip["status"],
    "flight": (bookings["flight"] or {}).get("status"),
    "hotel": (bookings["hotel"] or {}).get("status"),
    "payment": (bookings["payment"] or {}).get("status"),
}
wrong = {k: v for k, v in want.items() if str(got[k]) != v}
if wrong:
    print("FAIL trip %s: expected %s, got %s (reason: %s)" % (
        trip["trip_id"], want, got, trip.get("reason")), file=sys.stderr)
    reason = str(trip.get("reason"))
    if reason.startswith(("SoldOut", "NoRooms")):
        print("  the catalogue has no stock left on that date: run again with another SMOKE_DATE", file=sys.stderr)
    elif "NotFound" in reason.split(":")[0]:
        print("  nothing on sale that day: is the demo catalogue seeded (trip-local --aws-table <TableName> seed)?", file=sys.stderr)
    sys.exit(1)
print("ok   trip %s: %s" % (trip["trip_id"], ", ".join("%s %s" % kv for kv in got.items())))
' "$@"
}

new_id() { python3 -c 'import uuid; print(uuid.uuid4())'; }
confirmed=$(new_id)
declined=$(new_id)
echo "Smoke test of ${url} (${region}), departing ${day}"
book "$confirmed" tok_visa_4242
book "$declined" tok_decline_smoke_test
trip=$(settled "$confirmed")
expect status=CONFIRMED flight=RESERVED hotel=RESERVED payment=CAPTURED <<<"$trip"
trip=$(settled "$declined")
expect status=CANCELLED flight=CANCELLED hotel=CANCELLED payment=None <<<"$trip"
echo "Smoke test passed."
