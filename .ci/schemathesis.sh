#!/usr/bin/env bash
# The API against its own OpenAPI schema: a live server on the demo data (DATABASE_URL, Postgres
# in CI), a clinic API token, and schemathesis sending generated requests to every operation.
# Fails on any 5xx (not_a_server_error) or any answer that does not match the schema
# (response_schema_conformance). EXAMPLES bounds the cases per operation; SEED repeats a run.
#
# The fuzzer creates, changes and cancels freely, so the demo seeds must start from an empty
# database: with FRESH_DATABASE=1 the database in DATABASE_URL is dropped and created first
# (CI does this; never point it at data you keep).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to the Postgres database to seed and serve}"
EXAMPLES=${EXAMPLES:-10}
export DEBUG=1
bin=.venv/bin
started=$(date +%s)

if [ "${FRESH_DATABASE:-0}" = 1 ]; then
  name=${DATABASE_URL##*/}
  name=${name%%\?*}
  server=${DATABASE_URL%/*}
  psql "$server/postgres" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
  psql "$server/postgres" -qc "CREATE DATABASE \"$name\""
fi

$bin/python manage.py migrate --noinput >/dev/null
$bin/python manage.py seed_demo --patients 40 >/dev/null
$bin/python manage.py seed_demo_scheduling >/dev/null
$bin/python manage.py seed_demo_channels >/dev/null
mkdir -p var
# Real ids of the demo clinic, offered for most path ids, so the fuzzer reaches the objects
# (book, move, cancel, confirm...) and not only 404s; the rest of the time it makes up ids.
config=var/schemathesis.toml
$bin/python manage.py shell -v 0 > "$config" <<'PY'
from clinic.management.commands.seed_demo import DEMO_CLINIC
from clinic.models import Clinic
from inbox.models import Conversation
from scheduling.models import Appointment, Doctor, DoctorScheduleException, Service

clinic = Clinic.objects.filter(name=DEMO_CLINIC).order_by("pk").first()
ids = {
    "appointments": Appointment.objects.filter(clinic=clinic).order_by("-start"),
    "doctors": Doctor.objects.filter(clinic=clinic),
    "services": Service.objects.filter(clinic=clinic),
    "schedule-exceptions": DoctorScheduleException.objects.filter(doctor__clinic=clinic),
    "patients": clinic.patients.all(),
    "conversations": Conversation.objects.filter(clinic=clinic),
}
print("# clinic", clinic.pk)
for name, rows in ids.items():
    print(f"[dictionaries.{name}]")
    print(f"values = {list(rows.values_list('pk', flat=True)[:30]) or [1]}")
for name in ids:
    print("[[operations]]")
    print(f"include-path-regex = '^/api/v1/{name}/[{{]id[}}]'")
    print(f'parameters = {{ "path.id" = {{ dictionary = "{name}", probability = 0.8 }} }}')
PY
clinic_id=$(sed -n 's/^# clinic //p' "$config")
token=$($bin/python manage.py api_token_create --clinic "$clinic_id" --name schemathesis)

port=$($bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=var/schemathesis-server.log
$bin/gunicorn clinic.wsgi:application --bind "127.0.0.1:$port" --workers 2 --timeout 60 \
  --access-logfile /dev/null 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
status=0
# One worker: schemathesis' threads can trip a CPython 3.11 race in Hypothesis' lambda
# descriptions ("AST constructor recursion depth mismatch"), an error of the tool, not the API.
$bin/schemathesis --no-color --config-file "$config" run "http://127.0.0.1:$port/api/schema/" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "$EXAMPLES" ${SEED:+--seed "$SEED"} \
  --workers 1 --request-timeout 30 --wait-for-schema 30 \
  --suppress-health-check all || status=$?
if [ "$status" -ne 0 ] && grep -q "Traceback" "$log"; then
  echo "--- server errors ($log) ---"
  grep -B2 -A30 "Traceback" "$log" | tail -120
fi
echo "schemathesis finished in $(( $(date +%s) - started )) s (exit $status)"
exit "$status"
