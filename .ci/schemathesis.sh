#!/usr/bin/env bash
# The API against its own OpenAPI schema: a live server on the demo data (DATABASE_URL, Postgres
# in CI), a clinic API token, and schemathesis sending generated requests to every operation.
# Fails on any 5xx (not_a_server_error) or any answer that does not match the schema
# (response_schema_conformance). EXAMPLES bounds the cases per operation; SEED repeats a run.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to the database to seed and serve}"
EXAMPLES=${EXAMPLES:-25}
export DEBUG=1
bin=.venv/bin
started=$(date +%s)

$bin/python manage.py migrate --noinput >/dev/null
$bin/python manage.py seed_demo --patients 40 >/dev/null
$bin/python manage.py seed_demo_scheduling >/dev/null
clinic_id=$($bin/python manage.py shell -v 0 -c "
from clinic.management.commands.seed_demo import DEMO_CLINIC
from clinic.models import Clinic
print(Clinic.objects.filter(name=DEMO_CLINIC).order_by('pk').values_list('pk', flat=True)[0])")
token=$($bin/python manage.py api_token_create --clinic "$clinic_id" --name schemathesis)

port=$($bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p var
log=var/schemathesis-server.log
$bin/gunicorn clinic.wsgi:application --bind "127.0.0.1:$port" --workers 2 --timeout 60 \
  --access-logfile /dev/null 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 60); do
  curl -fsS "http://127.0.0.1:$port/healthz/" >/dev/null 2>&1 && break
  sleep 0.5
done

status=0
$bin/schemathesis --no-color run "http://127.0.0.1:$port/api/schema/" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "$EXAMPLES" ${SEED:+--seed "$SEED"} \
  --workers 2 --request-timeout 30 --wait-for-schema 30 \
  --suppress-health-check all || status=$?
if [ "$status" -ne 0 ] && grep -q "Traceback" "$log"; then
  echo "--- server errors ($log) ---"
  grep -B2 -A30 "Traceback" "$log" | tail -120
fi
echo "schemathesis finished in $(( $(date +%s) - started )) s (exit $status)"
exit "$status"
