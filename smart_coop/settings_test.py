"""Settings for the test suite: the production settings, made fast and self-contained."""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-key-not-secret")
os.environ.setdefault("BASE_HOST", "testserver.local")

from smart_coop.settings import *  # noqa: F403

# One test database per run, so that several runs can share one server.
DATABASES["default"]["TEST"] = {"NAME": f"test_smart_coop_{os.getpid()}"}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Per run: concurrent runs give the same invoice numbers to different documents.
# The processes a run starts (worker, web server) inherit the run's folder through the
# environment, so that they read and write the same files.
_media = BASE_DIR / ".data" / f"test-media-{os.getpid()}"  # noqa: F405
os.environ.setdefault("SMART_COOP_TEST_MEDIA_ROOT", str(_media))
MEDIA_ROOT = Path(os.environ["SMART_COOP_TEST_MEDIA_ROOT"])
WHITENOISE_AUTOREFRESH = True  # serve from the finders; no collectstatic before tests
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
