from django.apps import AppConfig


class HomeConfig(AppConfig):
    name = "studio_site.home"
    label = "home"
