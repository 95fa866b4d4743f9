import wagtail.admin.rich_text.editors.draftail.features as draftail_features
from wagtail import hooks

from .ai_editor import AI_FEATURE


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
