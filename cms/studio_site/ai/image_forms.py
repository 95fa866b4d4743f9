"""Wagtail's image form (WAGTAILIMAGES_IMAGE_FORM_BASE) with the AI alt text box beside the
description field, Wagtail's alt text: the pending suggestion to use or dismiss, a button to
ask for one, or why AI is off. The suggestion goes into the field only when the editor presses
"Use this suggestion", and becomes the alt text only when they save the form."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.urls import reverse
from wagtail.images.forms import BaseImageForm

from .alt_text import latest_for_review, note_saved_description
from .client import HOW_TO_TURN_ON, ai_enabled
from .models import AltTextSuggestion


class AltTextInput(forms.TextInput):
    """The description input followed by the AI alt text box (script: ai/image-alt-text.js)."""

    template_name = "ai/alt_text_widget.html"

    def __init__(self, image=None, attrs=None) -> None:
        super().__init__(attrs)
        self.image = image

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        image = self.image
        suggestion = latest_for_review(image) if image is not None else None
        context["ai"] = {
            "on": ai_enabled(),
            "how_to": HOW_TO_TURN_ON,
            "on_upload": settings.AI_ALT_TEXT_ON_UPLOAD,
            "image_id": image.pk if image is not None else None,
            "suggest_url": reverse("ai:suggest_alt_text", args=[image.pk]) if image else "",
            "suggestion": suggestion,
            "failed": suggestion is not None and suggestion.status == AltTextSuggestion.FAILED,
            "dismiss_url": (reverse("ai:dismiss_alt_text", args=[suggestion.pk])
                            if suggestion is not None else ""),
        }
        return context


class ImageForm(BaseImageForm):
    """The site's image form: Wagtail's, with AltTextInput for the description."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("description")
        if field is not None:
            image = self.instance if self.instance.pk else None
            field.widget = AltTextInput(image=image, attrs=field.widget.attrs)
            field.help_text = field.help_text or (
                "The alt text: what the image shows, for readers who cannot see it.")

    def save(self, commit: bool = True):
        image = super().save(commit=commit)
        if commit and image.pk:
            note_saved_description(image)
        return image
