# The web service: Django behind gunicorn, static files built in and served by
# WhiteNoise. `docker compose up` builds it; docker/entrypoint.sh runs on start.
#
# One stage is enough: every requirement installs from a wheel (psycopg[binary]
# included), so there is no compiler or build tooling to leave behind.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
# gunicorn's default heartbeat directory sits on the overlay filesystem, where a
# slow disk can make the arbiter think its workers hung.
ENV GUNICORN_CMD_ARGS="--worker-tmp-dir /dev/shm"

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app

WORKDIR /app

# Requirements before the code, so that editing code does not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Hashed, compressed static files are part of the image. The key only satisfies
# the settings for this one command (LOCAL_MODE=false selects the production
# static storage); it is not kept in the image.
RUN DEBUG=false LOCAL_MODE=false SECRET_KEY=collectstatic-only \
    python manage.py collectstatic --noinput --verbosity 0

# /data is the app-data volume: uploaded evidence and the generated SECRET_KEY.
# A new named volume takes this directory's owner, so the app user can write it.
RUN mkdir -p /data/media && chown -R app:app /data
ENV MEDIA_ROOT=/data/media

USER app
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
