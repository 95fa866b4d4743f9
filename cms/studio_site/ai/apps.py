import logging

from django.apps import AppConfig
from django.conf import settings


class AIConfig(AppConfig):
    name = "studio_site.ai"
    label = "ai"
    verbose_name = "AI drafting"

    def ready(self) -> None:
        # An operator with an older data/studio.env (STUDIO_AI_*) or site environment
        # (LS_AI_*) sees in the log what to rename; the values still work meanwhile.
        for message in getattr(settings, "DEPRECATED_ENV", []):
            logging.getLogger("studio_site.ai").warning(message)
