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
        # An image an editor uploads gets an alt text suggestion to review (alt_text.py).
        from django.db.models.signals import post_save
        from wagtail.images import get_image_model

        from .alt_text import on_image_saved

        post_save.connect(on_image_saved, sender=get_image_model(),
                          dispatch_uid="studio_site.ai.alt_text")
