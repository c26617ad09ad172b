from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "playbooks"
    verbose_name = "Playbooks and response templates"

    def ready(self):
        from playbooks import registrations  # noqa: F401 - registers navigation, search and My day
