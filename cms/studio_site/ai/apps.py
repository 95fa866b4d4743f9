from django.apps import AppConfig


class AIConfig(AppConfig):
    name = "studio_site.ai"
    label = "ai"
    verbose_name = "AI drafting"
