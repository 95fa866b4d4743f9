import wagtail.admin.rich_text.editors.draftail.features as draftail_features
from django.templatetags.static import static
from django.urls import include, path, reverse
from django.utils.html import format_html, json_script
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .blocks import AI_FEATURE
from .editor_api import editor_config


@hooks.register("register_admin_urls")
def register_ai_urls():
    return [path("ai/", include("studio_site.ai.urls", namespace="ai"))]


@hooks.register("register_admin_menu_item")
def register_ai_menu_item():
    return MenuItem("AI assistant", reverse("ai:assistant"), icon_name="pick", order=900)


@hooks.register("register_rich_text_features")
def register_ai_control(features):
    """'ai' in a rich-text field's features puts the AI bar (Draft with AI, Improve selection)
    under that field's Draftail editor. It changes no stored format, so it needs no converter
    rule."""
    features.register_editor_plugin(
        "draftail", AI_FEATURE,
        draftail_features.ControlFeature(
            {"type": AI_FEATURE},
            js=["ai/ai-request.js", "ai/draftail-ai.js"],
            css={"all": ["ai/draftail-ai.css"]},
        ),
    )


@hooks.register("insert_editor_js")
def ai_editor_config():
    """Rendered with every page editor, so AI on/off and the endpoints are current (a rich-text
    widget's options are built once per process). The summarise script is loaded here too: it
    works on the tutorial's summary field, not inside a rich-text editor."""
    return format_html(
        '{}<link rel="stylesheet" href="{}"><script src="{}" defer></script>'
        '<script src="{}" defer></script>',
        json_script(editor_config(), "ls-ai-config"), static("ai/draftail-ai.css"),
        static("ai/ai-request.js"), static("ai/editor-summarise.js"),
    )
