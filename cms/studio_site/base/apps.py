from django.apps import AppConfig


class BaseConfig(AppConfig):
    """What several apps share; every other app may import it, it imports none of them."""

    name = "studio_site.base"
    label = "base"
    verbose_name = "Shared parts"

    def ready(self) -> None:
        from . import page_cache

        page_cache.connect_purge_signals()
        page_cache.connect_user_purge_signals()
