from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Advanced-user portfolio"

    def ready(self):
        from accounts import registrations  # noqa: F401 - registers nav, search and My day panels
