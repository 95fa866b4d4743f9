from django.apps import AppConfig


class APIConfig(AppConfig):
    name = "studio_site.api"
    label = "studio_api"
    verbose_name = "REST API v1"
