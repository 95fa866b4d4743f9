from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "studio_site.catalogue"
    label = "catalogue"
