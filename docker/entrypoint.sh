#!/bin/sh
# Runs on every start of the web container: bring the schema up to date, load
# the documents' data, make sure the first superuser exists, then become
# gunicorn. Every step is safe to repeat, so a restart or an upgrade needs
# nothing else.
#
# Also runs from a checkout, outside any container (the tests do):
#   PYTHON=.venv/bin/python GUNICORN_BIND=127.0.0.1:8000 docker/entrypoint.sh
# With LOCAL_MODE=false run `manage.py collectstatic` first, as the image build does.
# Arguments, if any, are run instead of gunicorn after the same preparation.
set -eu

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"

# Compose leaves SECRET_KEY empty unless .env sets it and points SECRET_KEY_FILE
# into the data volume: the key is made once and then kept, so sessions and
# password-reset links survive restarts and upgrades. Settings read the file.
if [ -z "${SECRET_KEY:-}" ] && [ -n "${SECRET_KEY_FILE:-}" ] && [ ! -s "$SECRET_KEY_FILE" ]; then
    (
        umask 077
        "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$SECRET_KEY_FILE.new"
        mv "$SECRET_KEY_FILE.new" "$SECRET_KEY_FILE"
    )
    echo "entrypoint: generated a new SECRET_KEY in $SECRET_KEY_FILE" >&2
fi

"$PYTHON" manage.py migrate --noinput

# seed loads only the fixture files not loaded before, so a restart neither
# duplicates rows nor undoes edits made to seeded ones.
case "${SEED_ON_START:-true}" in
    1 | true | yes | on) "$PYTHON" manage.py seed ;;
    0 | false | no | off) echo "entrypoint: SEED_ON_START is off, fixtures not loaded" >&2 ;;
    *) echo "entrypoint: SEED_ON_START must be true or false, not '$SEED_ON_START'" >&2; exit 2 ;;
esac

# Programme tallies that stopped holding since yesterday (or were never
# made, after an upgrade): summaries are right without them, only slower.
# Run it daily too, e.g. from cron: docker compose exec web python manage.py recount_tallies
"$PYTHON" manage.py recount_tallies

if [ -n "${DJANGO_SUPERUSER_USERNAME:-}" ]; then
    # Exit status 3 means "no such user"; anything else non-zero is a real error.
    status=0
    "$PYTHON" manage.py shell --no-imports -c '
import os, sys
from django.contrib.auth import get_user_model
User = get_user_model()
name = os.environ["DJANGO_SUPERUSER_USERNAME"]
sys.exit(0 if User._default_manager.filter(**{User.USERNAME_FIELD: name}).exists() else 3)
' || status=$?
    case $status in
        0) ;;
        3)
            generated=""
            if [ -z "${DJANGO_SUPERUSER_PASSWORD:-}" ]; then
                # A local trial has no .env: make a password and show it once, like `manage.py demo`.
                DJANGO_SUPERUSER_PASSWORD=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(12))')
                export DJANGO_SUPERUSER_PASSWORD
                generated=yes
            fi
            DJANGO_SUPERUSER_EMAIL="${DJANGO_SUPERUSER_EMAIL:-}" "$PYTHON" manage.py createsuperuser --noinput
            if [ -n "$generated" ]; then
                echo "entrypoint: superuser $DJANGO_SUPERUSER_USERNAME created with password $DJANGO_SUPERUSER_PASSWORD (shown once; change it after logging in)" >&2
            fi
            ;;
        *) exit "$status" ;;
    esac
fi

if [ "$#" -gt 0 ]; then
    exec "$@"
fi
# exec, so that gunicorn receives the container's SIGTERM and stops gracefully.
# No control socket: nothing here uses gunicornc, and its default path in $HOME
# is unwritable in the image and shared between instances outside it.
exec "$PYTHON" -m gunicorn config.wsgi \
    --bind "${GUNICORN_BIND:-0.0.0.0:8000}" \
    --workers "${WEB_CONCURRENCY:-2}" \
    --no-control-socket
