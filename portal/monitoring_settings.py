"""The monitoring part of the settings, read from the environment by portal/settings.py: who may
scrape /metrics, Sentry, and the log format. Plain functions of `env`, no Django imports beyond
the exception, so settings can call them before anything is set up."""

import ipaddress

from django.core.exceptions import ImproperlyConfigured


def metrics_networks(env) -> list:
    """METRICS_ALLOWED_NETWORKS: CIDRs, comma-separated, from which /metrics may be scraped."""
    try:
        return [
            ipaddress.ip_network(network.strip())
            for network in env.list("METRICS_ALLOWED_NETWORKS", default=[])
            if network.strip()
        ]
    except ValueError as error:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_NETWORKS: {error} (give CIDRs such as 10.0.0.0/8)."
        ) from None


def sentry_start(env, *, release: str) -> str:
    """Error reporting through Sentry when SENTRY_DSN is set (the maintained SDK), off otherwise.
    No personal data is sent (send_default_pii off: user ids, not e-mail or IP addresses).
    Returns the DSN ("" when off)."""
    dsn = env("SENTRY_DSN", default="")
    if dsn:
        import sentry_sdk
        from sentry_sdk.integrations.django import DjangoIntegration

        sentry_sdk.init(
            dsn=dsn,
            integrations=[DjangoIntegration()],
            environment=env("SENTRY_ENVIRONMENT", default="production"),
            release=release,
            traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
            send_default_pii=False,
        )
    return dsn


def logging_config(env) -> tuple[str, dict]:
    """LOG_FORMAT and LOGGING. json: one JSON object a line with the request's id and user id or
    the task's name (portal.logcontext), for a log pipeline; plain (the default): a readable line."""
    log_format = env("LOG_FORMAT", default="plain")
    if log_format not in ("plain", "json"):
        raise ImproperlyConfigured("LOG_FORMAT must be plain or json.")
    return log_format, {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "portal.logcontext.ContextFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(task)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["context"]}
        },
        "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # Axes logs every successful login at INFO; failures and lockouts stay visible.
            "axes": {"level": env("AXES_LOG_LEVEL", default="WARNING")},
        },
    }
