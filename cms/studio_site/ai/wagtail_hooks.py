from django.templatetags.static import static
from django.urls import include, path, reverse
from django.utils.html import format_html, json_script
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .editor_api import editor_config


@hooks.register("register_admin_urls")
def register_ai_urls():
    return [path("ai/", include("studio_site.ai.urls", namespace="ai"))]


@hooks.register("register_admin_menu_item")
def register_ai_menu_item():
    return MenuItem("AI assistant", reverse("ai:assistant"), icon_name="pick", order=900)


@hooks.register("insert_editor_js")
def ai_editor_config():
    """Rendered with every page editor, so AI on/off and the endpoints are current (a rich-text
    widget's options are built once per process). The AI bar itself is registered by
    base/wagtail_hooks.py; the summarise script is loaded here: it works on the tutorial's
    summary field, not inside a rich-text editor."""
    return format_html(
        '{}<link rel="stylesheet" href="{}"><script src="{}" defer></script>'
        '<script src="{}" defer></script>',
        json_script(editor_config(), "ls-ai-config"), static("ai/draftail-ai.css"),
        static("ai/ai-request.js"), static("ai/editor-summarise.js"),
    )


@hooks.register("insert_global_admin_js")
def alt_text_script():
    """The image form's alt text box (image_forms.py): on every admin page, since the multiple
    uploader adds image forms to its page after each upload."""
    return format_html('<script src="{}" defer></script>', static("ai/image-alt-text.js"))


@hooks.register("insert_global_admin_css")
def alt_text_styles():
    return format_html('<link rel="stylesheet" href="{}">', static("ai/image-alt-text.css"))
