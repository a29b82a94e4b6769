# Clinnova production image: gunicorn for the web, the same image runs Celery worker and beat.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 STATIC_MANIFEST=1
WORKDIR /app

RUN groupadd --system clinnova && useradd --system --gid clinnova --home /app clinnova
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings; a throwaway key is enough to build, never used at run time.
RUN SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --no-input \
    && mkdir -p /app/media && chown -R clinnova:clinnova /app/media

USER clinnova
EXPOSE 8000
# Bind address, workers, timeout and access log format: clinnova/gunicorn_conf.py.
CMD ["gunicorn", "-c", "clinnova/gunicorn_conf.py", "clinnova.wsgi:application"]
