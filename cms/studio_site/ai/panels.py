from wagtail.admin.panels import HelpPanel

from .client import HOW_TO_TURN_ON, ai_enabled


class AIAssistPanel(HelpPanel):
    """Editor panel: what the AI controls in this editor do, the tutorial's "Summarise this
    tutorial" button (moved under the summary field by editor-summarise.js), or why AI is off
    and how to turn it on."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("template", "ai/panel.html")
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
