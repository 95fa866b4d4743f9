from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "studio_site.accounts"
    label = "accounts"
    verbose_name = "Accounts and sign-in"

    def ready(self) -> None:
        from . import signals  # noqa: F401
