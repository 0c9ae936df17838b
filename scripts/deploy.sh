#!/usr/bin/env bash
# `make deploy STAGE=dev|prod`: builds the arm64 Lambda binaries with cargo-lambda (the CDK app's
# RustFunction does, at synth) and deploys the stack to the account and region of your AWS
# credentials; then prints the API's URL and a signed request to try. Needs an AWS account:
# everything it deploys is checked offline by `make test` (scripts/infra.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
stage="${1:-dev}"

if ! cargo lambda --version >/dev/null 2>&1; then
  echo "deploy needs cargo-lambda: pip install cargo-lambda ziglang (docs/hands-on/01-project-setup.md)" >&2
  exit 1
fi
outputs="infra/cdk.out/outputs-$stage.json"
(
  cd infra
  CDK_DISABLE_CLI_TELEMETRY=true npx --no-install cdk deploy --no-notices -c stage="$stage" \
    --require-approval broadening --outputs-file "cdk.out/outputs-$stage.json"
)

output() {
  python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); print(next(iter(o.values()))[sys.argv[2]])' "$outputs" "$1"
}
url=$(output ApiUrl)
table=$(output TableName)
search_table=$(output SearchTableName)
dead_letters=$(output SearchDeadLetterQueueUrl)
seed="cargo run -q -p trip-local -- --aws-table $table seed"
if [[ "$stage" == dev ]]; then
  # Something to book: the demo catalogue (flights NH106 and NH108, hotels TOKYO01 and FULL01).
  $seed
fi
region=$(python3 -c 'import sys; print(sys.argv[1].split(".")[2])' "$url")
cat <<EOT

Deployed TripSaga-$stage. Outputs: $outputs
The demo catalogue: $([[ "$stage" == dev ]] && echo "on sale" || echo "not seeded in $stage; to put it on sale: $seed")
The API: ${url}trips (requests signed with SigV4, as any IAM identity allowed execute-api:Invoke).
Book a trip (curl signs with your credentials; add -H "x-amz-security-token: \$AWS_SESSION_TOKEN"
for temporary ones):

  trip=\$(python3 -c 'import uuid; print(uuid.uuid4())')
  curl -i -X POST '${url}trips' --aws-sigv4 'aws:amz:${region}:execute-api' \\
    --user "\$AWS_ACCESS_KEY_ID:\$AWS_SECRET_ACCESS_KEY" \\
    -H 'Content-Type: application/json' -H "Idempotency-Key: \$trip" \\
    -d '{"flight":{"flight_number":"NH106","date":"2026-12-01","passengers":2},"hotel":{"hotel":"TOKYO01","stay":{"start":"2026-12-01","end":"2026-12-04"},"guests":2},"payment":{"card":"tok_visa_4242"}}'
  curl -s "${url}trips/\$trip" --aws-sigv4 'aws:amz:${region}:execute-api' \\
    --user "\$AWS_ACCESS_KEY_ID:\$AWS_SECRET_ACCESS_KEY"

Search the confirmed trips of the first week (search table $search_table, kept in step by the
stream consumer; records it cannot project wait in $dead_letters):

  curl -s '${url}trips?status=CONFIRMED&departure_from=2026-12-01&departure_to=2026-12-07&limit=10' \\
    --aws-sigv4 'aws:amz:${region}:execute-api' --user "\$AWS_ACCESS_KEY_ID:\$AWS_SECRET_ACCESS_KEY"
EOT
