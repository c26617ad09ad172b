from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "oncall"
    verbose_name = "On call and escalations"
    default_auto_field = "django.db.models.BigAutoField"
