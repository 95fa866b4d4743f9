"""The AI controls of the page editor that blog posts and tutorials share.

The Draftail AI bar (feature "ai", static/ai/*.js), the editor panel that says what the
controls do or why AI is off, and whether AI is on at all. The endpoints the controls call
are the ai app's (studio_site.ai.editor_api); this module only needs their settings.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.functional import cached_property
from wagtail.admin.panels import HelpPanel

AI_FEATURE = "ai"

HOW_TO_TURN_ON = (
    "AI drafting is off. To turn it on, set OPENAI_API_KEY (and OPENAI_BASE_URL for an "
    "OpenAI-compatible server other than OpenAI, OPENAI_MODEL for the model) in "
    "data/studio.env or the site's environment and restart it."
)


def ai_enabled() -> bool:
    return bool(settings.AI_API_KEY or settings.AI_BASE_URL)


class WithAIControls:
    """Mix into a RichTextBlock so its Draftail editor has the AI bar (Draft with AI, Improve
    selection). The control is added to the editor widget only: the block's `features`, which
    migrations record and which decide what HTML is kept, stay as they are."""

    @cached_property
    def field(self) -> forms.CharField:
        from wagtail.admin.rich_text import get_rich_text_editor_widget

        features = None
        if self.features is not None:
            features = [*self.features, AI_FEATURE]
        return forms.CharField(
            widget=get_rich_text_editor_widget(self.editor, features=features),
            **self.field_options,
        )


class AIAssistPanel(HelpPanel):
    """Editor panel: what the AI controls in this editor do, the tutorial's "Summarise this
    tutorial" button (moved under the summary field by ai/editor-summarise.js), or why AI is
    off and how to turn it on."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("template", "base/ai_panel.html")
        kwargs.setdefault("heading", "AI assistant")
        super().__init__(**kwargs)

    class BoundPanel(HelpPanel.BoundPanel):
        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            page = self.instance
            context.update(
                ai_on=ai_enabled(), how_to=HOW_TO_TURN_ON, page=page,
                is_tutorial=page.__class__.__name__ == "TutorialPage",
            )
            return context
