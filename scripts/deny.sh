#!/usr/bin/env bash
# cargo-deny over the dependency graph, configured by deny.toml: licences, bans (duplicate
# versions), sources, and RustSec advisories. Run by scripts/test.sh; alone with `make deny`.
#
# Advisories need the RustSec advisory database, which cargo-deny clones from GitHub. This
# project's machines and CI reach only the package registries, and no registry distributes
# that database, so:
#   1. where GitHub can be reached, the database is fetched fresh and checked against;
#   2. otherwise a copy already on the machine ($CARGO_HOME/advisory-dbs, from an earlier
#      `cargo deny fetch db`) is used, and its date is printed;
#   3. otherwise advisories are NOT checked, and this script says so in a banner (and
#      scripts/test.sh repeats it at the end). Set DENY_ADVISORIES=required to make that a
#      failure instead, on a pipeline that does reach GitHub.
# Refresh the copy on a machine that reaches GitHub: `.venv/bin/cargo-deny fetch db`.
set -euo pipefail
cd "$(dirname "$0")/.."

deny=.venv/bin/cargo-deny
if [[ ! -x "$deny" ]]; then
  echo "cargo-deny is not installed: run scripts/setup.sh (or make setup)" >&2
  exit 1
fi

"$deny" check licenses bans sources

# The database cargo-deny clones for the default URL lives in $CARGO_HOME/advisory-dbs/.
db_dir=""
for dir in "${CARGO_HOME:-$HOME/.cargo}"/advisory-dbs/advisory-db-*/; do
  [[ -d "$dir/.git" ]] && db_dir="${dir%/}"
done

# Without GitHub the clone fails at once (no DNS); the timeout covers a network that hangs.
if timeout 120 "$deny" fetch db >/dev/null 2>&1; then
  echo "advisories: RustSec database fetched now"
  "$deny" --offline check advisories
elif [[ -n "$db_dir" ]]; then
  db_date=$(git -C "$db_dir" log -1 --format=%cs)
  echo "advisories: GitHub unreachable; checking against the RustSec database of $db_date ($db_dir)"
  "$deny" --offline check advisories
else
  cat >&2 <<'EOF'

################################################################################################
##  ADVISORIES NOT CHECKED: no copy of the RustSec advisory database on this machine and      ##
##  GitHub cannot be reached to fetch one. Licences, bans and sources were checked.           ##
##  On a machine that reaches GitHub: .venv/bin/cargo-deny fetch db                            ##
################################################################################################

EOF
  if [[ "${DENY_ADVISORIES:-}" == required ]]; then
    exit 1
  fi
  # Exit status 3: everything checked passed, advisories were skipped (scripts/test.sh).
  exit 3
fi
