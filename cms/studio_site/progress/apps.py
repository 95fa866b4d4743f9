from django.apps import AppConfig


class ProgressConfig(AppConfig):
    name = "studio_site.progress"
    label = "progress"
