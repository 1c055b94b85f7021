# Production image: daphne (web), Celery worker and beat, and the SMTP receiver all run from it (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SUPPORTDESK_VAR_DIR=/app/var
WORKDIR /app

RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY . .
RUN DEBUG=false SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 supportdesk && mkdir -p /app/var && chown -R supportdesk /app/var
USER supportdesk

EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "supportdesk.asgi:application"]
