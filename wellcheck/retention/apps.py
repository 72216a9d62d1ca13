from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "wellcheck.retention"
    label = "retention"
    verbose_name = "Retention, sealing and health segments"
