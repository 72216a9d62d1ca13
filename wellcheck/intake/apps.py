from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "wellcheck.intake"
    label = "intake"
    verbose_name = "Dispatch (CAD) call import"
