from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "wellcheck.accounts"
    label = "accounts"
    verbose_name = "Accounts and access"
