from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support conversations (Intercom mirror)"

    def ready(self):
        from support import registrations  # noqa: F401 - account timeline source and health component
