from django.apps import AppConfig


class HomeConfig(AppConfig):
    name = "studio_site.home"
    label = "home"

    def ready(self) -> None:
        from . import page_cache

        page_cache.connect_purge_signals()
