from django.apps import AppConfig


class TutorialsConfig(AppConfig):
    name = "studio_site.tutorials"
    label = "tutorials"
