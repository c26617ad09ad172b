"""Settings for the test suite: hermetic (no .env), fast, synchronous tasks."""

import os

os.environ["DJANGO_READ_DOT_ENV_FILE"] = "false"
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)
os.environ.setdefault("DEBUG", "false")
os.environ["SECURE_SSL_REDIRECT"] = "false"

from portal.settings import *  # noqa: F403
from portal.settings import Q_CLUSTER, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# Serve static files from the finders: tests never run collectstatic.
WHITENOISE_AUTOREFRESH = True
# Templates used only by tests (example panels and the like).
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "portal" / "tests" / "templates"]  # noqa: F405
# A file-backed SQLite test database (removed after the run), not the in-memory default: tests
# that write from two threads at once need real locking with the busy timeout, as in production.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"portal-test-{os.getpid()}.sqlite3")
    }
