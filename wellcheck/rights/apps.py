from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "wellcheck.rights"
    label = "rights"
    verbose_name = "The person's rights"
