"""The AI bar for rich-text blocks, without touching what the block stores."""

from __future__ import annotations

from django import forms
from django.utils.functional import cached_property

AI_FEATURE = "ai"


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
