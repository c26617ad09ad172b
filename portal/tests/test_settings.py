"""Settings come from the environment; production settings pass `check --deploy` cleanly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "p" * 20 + "-production-like-secret-key-for-the-deploy-check-0123456789",
    "ALLOWED_HOSTS": "support.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://support.example.com",
    "DJANGO_READ_DOT_ENV_FILE": "false",
}


def manage(*args, **env):
    # Only what a bare machine has: the test process's own settings must not leak in.
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (1 silenced)" in result.stdout


def test_check_deploy_is_clean_behind_a_tls_proxy():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION_ENV,
        TLS_TERMINATED_BY_PROXY="true",
        SECURE_SSL_REDIRECT="false",
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "None ('REMOTE_ADDR',)"),
        ({"TLS_TERMINATED_BY_PROXY": "true"}, "0 ('HTTP_X_FORWARDED_FOR', 'REMOTE_ADDR')"),
        ({"TLS_TERMINATED_BY_PROXY": "true", "TRUSTED_PROXY_COUNT": "0"}, "None ('REMOTE_ADDR',)"),
        ({"TRUSTED_PROXY_COUNT": "2"}, "1 ('HTTP_X_FORWARDED_FOR', 'REMOTE_ADDR')"),
    ],
)
def test_sign_in_throttling_reads_the_forwarded_address_only_behind_trusted_proxies(env, expected):
    """ipware's proxy count is the proxies listed in X-Forwarded-For: one fewer than stand in front."""
    code = (
        "from django.conf import settings; "
        "print(settings.AXES_IPWARE_PROXY_COUNT, settings.AXES_IPWARE_META_PRECEDENCE_ORDER)"
    )
    result = manage("shell", "-c", code, **PRODUCTION_ENV, **env)
    assert result.stdout.strip().splitlines()[-1] == expected, result.stderr


@pytest.mark.parametrize("secret", ["", "short", "django-insecure-development-only-never-use-in-production"])
def test_refuses_to_start_without_a_real_secret_key_when_debug_is_off(secret):
    result = manage("check", **{**PRODUCTION_ENV, "SECRET_KEY": secret})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_development_default_secret_only_with_debug():
    result = manage("check", DEBUG="true", DJANGO_READ_DOT_ENV_FILE="false")
    assert result.returncode == 0, result.stderr


def test_task_retry_must_exceed_timeout():
    result = manage("check", **PRODUCTION_ENV, Q_TIMEOUT_SECONDS="300", Q_RETRY_SECONDS="300")
    assert result.returncode != 0
    assert "Q_RETRY_SECONDS must be larger" in result.stderr


def test_redis_broker_is_chosen_by_url():
    code = "from django.conf import settings; print(settings.Q_CLUSTER.get('redis'), 'orm' in settings.Q_CLUSTER)"
    result = manage("shell", "-c", code, **PRODUCTION_ENV, Q_BROKER_URL="redis://localhost:6379/3")
    assert result.stdout.strip().splitlines()[-1] == "redis://localhost:6379/3 False", result.stderr


def test_task_queue_settings():
    assert settings.Q_CLUSTER["retry"] > settings.Q_CLUSTER["timeout"]
    assert settings.Q_CLUSTER["sync"] is True


def test_the_default_sqlite_file_runs_in_wal_mode_with_immediate_transactions(tmp_path, django_db_blocker):
    """Open a file database with the OPTIONS the settings give SQLite, as `make run` does."""
    from django.db.backends.sqlite3.base import DatabaseWrapper

    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; import json; print(json.dumps(settings.DATABASES['default']))",
        DEBUG="true",
        DJANGO_READ_DOT_ENV_FILE="false",
    )
    default = __import__("json").loads(result.stdout.strip().splitlines()[-1])
    assert default["ENGINE"] == "django.db.backends.sqlite3"
    assert default["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert default["OPTIONS"]["timeout"] >= 5

    wrapper = DatabaseWrapper({**connection.settings_dict, **default, "NAME": str(tmp_path / "db.sqlite3")})
    with django_db_blocker.unblock(), wrapper.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal_mode = cursor.fetchone()[0]
        cursor.execute("PRAGMA busy_timeout")
        busy_timeout_ms = cursor.fetchone()[0]
    wrapper.close()
    assert journal_mode == "wal"
    assert busy_timeout_ms == default["OPTIONS"]["timeout"] * 1000


@pytest.mark.parametrize(
    "env, expected",
    [({}, "-c jit=off"), ({"DATABASE_JIT": "true"}, None)],
    ids=["jit off by default", "DATABASE_JIT=true leaves the server's"],
)
def test_postgresql_connections_turn_jit_off_unless_told(env, expected):
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; import json; print(json.dumps(settings.DATABASES['default']))",
        DEBUG="true",
        DJANGO_READ_DOT_ENV_FILE="false",
        DATABASE_URL="postgres://portal@localhost:5432/portal?sslmode=prefer",
        **env,
    )
    options = __import__("json").loads(result.stdout.strip().splitlines()[-1])["OPTIONS"]
    assert options.get("options") == expected
    assert options["sslmode"] == "prefer"  # the URL's own options kept


@pytest.mark.django_db
def test_the_test_database_connection_runs_without_jit():
    if connection.vendor == "sqlite":  # no JIT, and no PostgreSQL option given to SQLite
        assert "options" not in connection.settings_dict["OPTIONS"]
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
