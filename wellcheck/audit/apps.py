from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "wellcheck.audit"
    label = "audit"
