from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem


@hooks.register("register_admin_urls")
def register_ai_urls():
    return [path("ai/", include("studio_site.ai.urls", namespace="ai"))]


@hooks.register("register_admin_menu_item")
def register_ai_menu_item():
    return MenuItem("AI assistant", reverse("ai:assistant"), icon_name="pick", order=900)
