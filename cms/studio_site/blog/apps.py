from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "studio_site.blog"
    label = "blog"
