from django.apps import AppConfig


class AdministrationConfig(AppConfig):
    name = "wellcheck.administration"
    label = "administration"
    verbose_name = "Agency settings"
