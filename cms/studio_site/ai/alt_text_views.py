"""JSON endpoints behind the alt text box of the image edit view (image_forms.py).

POST only, with the admin's CSRF token, by a user who may change that image. Errors are
{"error": "..."} with a message the editor can act on; the form and the image stay as they
were."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_POST
from wagtail.images import get_image_model
from wagtail.permissions import policy_registry

from .alt_text import suggest_alt_text
from .client import AIDraftingError, AIOff
from .models import AltTextSuggestion

log = logging.getLogger(__name__)


def _may_change(request: HttpRequest, image) -> bool:
    policy = policy_registry.get_by_type(get_image_model())
    return policy.user_has_permission_for_instance(request.user, "change", image)


def _refused() -> JsonResponse:
    return JsonResponse({"error": "You cannot edit this image, so you cannot use AI on it."},
                        status=403)


@require_POST
def suggest(request: HttpRequest, image_id: int) -> JsonResponse:
    """-> {suggestion, id, model, dismiss_url}: a new pending suggestion (not the alt text)."""
    image = get_object_or_404(get_image_model(), pk=image_id)
    if not _may_change(request, image):
        return _refused()
    try:
        suggestion = suggest_alt_text(image, request.user)
    except AIOff as error:
        return JsonResponse({"error": str(error), "off": True}, status=503)
    except AIDraftingError as error:
        return JsonResponse({"error": str(error)}, status=502)
    return JsonResponse({
        "suggestion": suggestion.text, "id": suggestion.pk, "model": suggestion.model_name,
        "dismiss_url": reverse("ai:dismiss_alt_text", args=[suggestion.pk]),
    })


@require_POST
def dismiss(request: HttpRequest, suggestion_id: int) -> JsonResponse:
    """-> {dismissed: true}: the editor does not want this suggestion."""
    suggestion = get_object_or_404(AltTextSuggestion.objects.select_related("image"),
                                   pk=suggestion_id)
    if not _may_change(request, suggestion.image):
        return _refused()
    if suggestion.status == AltTextSuggestion.PENDING:
        suggestion.status = AltTextSuggestion.DISMISSED
        suggestion.save(update_fields=["status"])
        log.info("alt text suggestion dismissed user=%s image=%s suggestion=%s",
                 request.user, suggestion.image_id, suggestion.pk)
    return JsonResponse({"dismissed": True})
