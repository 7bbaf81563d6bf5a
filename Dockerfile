FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/data STATIC_ROOT=/app/staticfiles
WORKDIR /app

COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
RUN DEBUG=0 ALLOWED_HOSTS=build SECRET_KEY=build-only-key-that-is-long-enough-for-the-settings-check-0123 \
    python manage.py collectstatic --noinput \
    && useradd --system --home /app clinic && mkdir -p /data && chown clinic /data
USER clinic

EXPOSE 8000
# Threads, so widgets waiting on a long-poll never hold up the providers' webhooks; each open
# widget holds one, so a busy site needs more (GUNICORN_THREADS, see README "Production").
CMD ["sh", "-c", "exec gunicorn clinic.wsgi:application --bind 0.0.0.0:8000 --workers ${GUNICORN_WORKERS:-3} --worker-class gthread --threads ${GUNICORN_THREADS:-8} --access-logfile -"]
