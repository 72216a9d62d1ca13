from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "wellcheck.transparency"
    label = "transparency"
    verbose_name = "Public transparency reports"
