from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "wellcheck.demo"
    label = "demo"
