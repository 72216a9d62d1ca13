from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "wellcheck.insights"
    label = "insights"
    verbose_name = "Trends and aggregates"
