# Kassa's production image: gunicorn behind your TLS proxy, on PostgreSQL (see compose.yaml).
# Build stage: the pinned runtime dependencies from pyproject.toml (no dev tools) in a venv.
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY pyproject.toml ./
# Only [project].dependencies, each pinned with ==; the dependencies change less often than the
# code, so this layer stays cached across code changes.
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt

# Runtime stage: the venv, the code, the collected static files; runs as an unprivileged user.
FROM python:3.11-slim AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GUNICORN_BIND=0.0.0.0:8000

RUN groupadd --system --gid 10001 kassa \
    && useradd --system --uid 10001 --gid kassa --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin kassa

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# The build context is exactly what .dockerignore lets in (a new top-level folder the app needs
# goes there, and only there). Owned by root, read-only for the app user: the shop writes only
# uploaded images, into /app/media (compose mounts a named volume there, which starts out with
# this folder's owner).
COPY . ./

# Settings refuse to load without a secret key; collectstatic needs none, so a throwaway one.
# Translations are compiled here from their .po sources (Babel, no gettext tools needed).
RUN DJANGO_SECRET_KEY=collectstatic-at-build-time-only python manage.py collectstatic --noinput --verbosity 0 \
    && pybabel compile --domain django --directory locale --statistics \
    && mkdir -p /app/media && chown 10001:10001 /app/media

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "docker/healthcheck.py"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
