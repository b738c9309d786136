# syntax=docker/dockerfile:1
# The production image of smart_coop: one image for web (gunicorn), the Celery worker, beat and
# the one-shot jobs (migrate_schemas, collectstatic). docker-compose.yml shows how they run.
#
#   docker build -t smart_coop .
#
# Debian 12 (bookworm) is named explicitly: the WeasyPrint libraries below are its package names.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- translations: msgfmt is needed to build the image, not to run it -------------------------
FROM ${PYTHON_IMAGE} AS messages
RUN apt-get update \
    && apt-get install --yes --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# What `manage.py compilemessages` runs, for every catalogue of the tree (none is fine).
RUN mkdir -p locale \
    && find . -name '*.po' -path '*/LC_MESSAGES/*' \
        -exec sh -c 'for po; do msgfmt --check-format -o "${po%.po}.mo" "$po" || exit 1; done' sh {} +

# --- the image ----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# WeasyPrint renders with Pango (which brings HarfBuzz, fontconfig and FreeType) and subsets
# fonts with libharfbuzz-subset; it needs real fonts to draw text (DejaVu, and Liberation, metric-
# compatible with Arial, Times and Courier). fc-cache builds the system font cache here, once, so
# that the unprivileged user does not rebuild it in every process.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fontconfig \
        fonts-dejavu-core \
        fonts-liberation \
    && rm -rf /var/lib/apt/lists/* \
    && fc-cache --force

# The unprivileged user every process runs as. The directories that receive the named volumes
# (static and media) are created owned by it, so that a new, empty volume inherits that owner.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app \
        --shell /usr/sbin/nologin app \
    && mkdir -p /var/lib/smart_coop/static /var/lib/smart_coop/media \
    && chown -R app:app /var/lib/smart_coop \
    && python -m venv "$VIRTUAL_ENV"

WORKDIR /app

# The third-party dependencies first, from pyproject.toml's [project].dependencies pinned by the
# constraints file, in a layer of their own: a change to the code does not reinstall them.
COPY pyproject.toml ./
COPY requirements/constraints.txt requirements/constraints.txt
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
        > /tmp/dependencies.txt \
    && pip install -c requirements/constraints.txt -r /tmp/dependencies.txt \
    && rm /tmp/dependencies.txt

# Then the project itself, without the dev or embedded extras: production has real PostgreSQL
# and Redis. The source tree, with the catalogues compiled above, stays in /app, owned by root:
# the app user only reads it.
COPY --from=messages /src/ ./
RUN pip install -c requirements/constraints.txt . \
    && rm -rf build ./*.egg-info

# The wheel holds the Python packages only: templates/, static/ and locale/ are at the top of the
# source tree, found through BASE_DIR. PYTHONPATH makes every process (gunicorn, manage.py, and
# celery, which puts the working directory on sys.path only while it imports the app) import
# this tree, so BASE_DIR is /app and each module is imported from one place.
ENV PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=smart_coop.settings \
    STATIC_ROOT=/var/lib/smart_coop/static \
    MEDIA_ROOT=/var/lib/smart_coop/media

USER app

# Settings refuse to import without SECRET_KEY when DEBUG is off: a throwaway value, on this RUN
# line only, so it is not kept in the image's environment. DEBUG=false selects whitenoise's
# compressed, hashed storage, as in production. Web, worker and beat all read the manifest.
RUN DEBUG=false SECRET_KEY=build-only-not-a-secret python manage.py collectstatic --noinput

EXPOSE 8000

# WEB_CONCURRENCY (gunicorn's worker count, default 1) and FORWARDED_ALLOW_IPS are read from the
# environment. The health check is in docker-compose.yml: it needs the public host name.
CMD ["gunicorn", "smart_coop.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--access-logfile", "-", \
     "--timeout", "60", \
     "--graceful-timeout", "30"]
