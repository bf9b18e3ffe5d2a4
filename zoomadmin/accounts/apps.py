from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "zoomadmin.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"

    def ready(self) -> None:
        from zoomadmin.accounts import signals  # noqa: F401 - connects the sign-in audit
