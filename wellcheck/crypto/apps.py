from django.apps import AppConfig


class CryptoConfig(AppConfig):
    name = "wellcheck.crypto"
    label = "crypto"
    verbose_name = "Encryption keys"
