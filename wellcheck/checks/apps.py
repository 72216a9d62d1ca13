from django.apps import AppConfig


class ChecksConfig(AppConfig):
    name = "wellcheck.checks"
    label = "checks"
    verbose_name = "Wellness checks"
