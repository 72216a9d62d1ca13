from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "wellcheck.accounts"
    label = "accounts"
    verbose_name = "Accounts and access"

    def ready(self) -> None:
        from wellcheck.accounts import signals  # noqa: F401  (connects the audit receivers)
