from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "wellcheck.core"
    label = "core"
