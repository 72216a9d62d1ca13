from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "wellcheck.people"
    label = "people"
