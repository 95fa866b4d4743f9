"""Alt text for uploaded images, suggested by a vision model and reviewed by an editor.

The image goes to the AI endpoint as a data: URL inside an image_url content part, downscaled
first (at most MAX_SIDE pixels a side, JPEG) so the request stays small whatever was uploaded.
The answer is stored as an AltTextSuggestion: the image's alt text (Wagtail's `description`
field) changes only when an editor puts the suggestion into the image form and saves it.

A suggestion is asked for when an editor uploads an image (settings.AI_ALT_TEXT_ON_UPLOAD)
and whenever an editor presses "Suggest alt text" in the image's edit view.
"""

from __future__ import annotations

import base64
import logging
import re
from io import BytesIO

from django.conf import settings
from django.db import transaction
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from .client import AIDraftingError, AIOff, ai_enabled, complete, vision_model
from .models import AltTextSuggestion

log = logging.getLogger(__name__)

# 768 px a side keeps code in a screenshot legible; the request stays a few hundred KB at most
# (tests/benchmarks/bench_alt_text_image.py: a 3.4 MB camera photo becomes a 263 KB data URL).
MAX_SIDE = 768
JPEG_QUALITY = 80
MAX_ALT_TEXT = 255  # Wagtail's description field

ALT_TEXT_SYSTEM = (
    "You write alt text for images on Learning Studio, a site that teaches Python with "
    "Jupyter notebooks. Describe what the image shows that matters to a reader who cannot "
    "see it: one plain sentence, at most 150 characters, no 'image of' or 'picture of', no "
    "quotes, no markup. If it shows code or a chart, say what the code does or what the chart "
    "shows. Answer with the alt text only."
)


class ImageUnreadable(AIDraftingError):
    """The image file cannot be opened or decoded, so there is nothing to send."""


def image_data_url(image) -> str:
    """The image as a data:image/jpeg;base64 URL, downscaled to MAX_SIDE, transparency on
    white, EXIF rotation applied."""
    try:
        with image.open_file() as handle, PILImage.open(handle) as source:
            source.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a smaller scale
            picture = ImageOps.exif_transpose(source)
            picture.thumbnail((MAX_SIDE, MAX_SIDE))
            if picture.mode in ("RGBA", "LA", "P"):
                picture = picture.convert("RGBA")
                flat = PILImage.new("RGB", picture.size, "white")
                flat.paste(picture, mask=picture.getchannel("A"))
                picture = flat
            buffer = BytesIO()
            picture.convert("RGB").save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    except (OSError, UnidentifiedImageError, PILImage.DecompressionBombError, ValueError) as error:
        raise ImageUnreadable(
            f"The image file cannot be read ({error}). Nothing was changed; upload the image "
            "again or choose another file."
        ) from error
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def clean_alt_text(text: str) -> str:
    """One line of plain text, without the quotes and labels models like to add."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^(alt(ernative)?[ -]text)\s*:\s*", "", text, flags=re.IGNORECASE)
    text = text.strip(" \"'“”‘’`*")
    if len(text) > MAX_ALT_TEXT:
        cut = text[:MAX_ALT_TEXT - 1].rsplit(" ", 1)[0]
        text = cut.rstrip(",;:") + "…"
    return text


def ask_for_alt_text(image, user, *, action: str) -> tuple[str, str]:
    """One vision call for `image`; returns (alt text, model). Raises AIOff, AIDraftingError."""
    model = vision_model()
    data_url = image_data_url(image)
    context = f"user={user} image={image.pk} model={model} action={action}"
    answer = complete(
        ALT_TEXT_SYSTEM,
        [
            {"type": "text", "text": f"Write the alt text for this image. Its title on the "
                                     f"site: {image.title[:200]}"},
            {"type": "image_url", "image_url": {"url": data_url}},
        ],
        context=context, model=model, max_tokens=300,
    )
    text = clean_alt_text(answer)
    if not text:
        raise AIDraftingError("The AI answered with no alt text. Nothing was changed; try again.")
    return text, model


def suggest_alt_text(image, user, *, action: str = "suggest_alt_text") -> AltTextSuggestion:
    """A new pending suggestion for `image` (older pending or failed ones are marked replaced). On an
    error nothing is stored and the error is raised: the image and earlier suggestions stay."""
    text, model = ask_for_alt_text(image, user, action=action)
    with transaction.atomic():
        image.alt_text_suggestions.filter(
            status__in=[AltTextSuggestion.PENDING, AltTextSuggestion.FAILED],
        ).update(status=AltTextSuggestion.REPLACED)
        suggestion = AltTextSuggestion.objects.create(
            image=image, text=text, model_name=model, requested_by=user)
    log.info("AI suggested alt text user=%s image=%s suggestion=%s model=%s",
             user, image.pk, suggestion.pk, model)
    return suggestion


def suggest_after_upload(image) -> None:
    """At upload: ask for a suggestion; a failure is stored with its reason for the edit view,
    and never fails the upload."""
    user = image.uploaded_by_user
    try:
        suggest_alt_text(image, user, action="alt_text_on_upload")
    except (AIOff, AIDraftingError) as error:
        AltTextSuggestion.objects.create(
            image=image, status=AltTextSuggestion.FAILED, error=str(error)[:500],
            model_name=vision_model(), requested_by=user)
    except Exception:  # a bug here must not lose the editor's upload
        log.exception("AI alt text at upload failed user=%s image=%s", user, image.pk)


def on_image_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save of the image model: an image an editor uploaded (the admin's upload views set
    uploaded_by_user) gets a suggestion once its row is committed."""
    if raw or not created or not instance.uploaded_by_user_id:
        return
    if not (ai_enabled() and settings.AI_ALT_TEXT_ON_UPLOAD):
        return
    transaction.on_commit(lambda: suggest_after_upload(instance))


def latest_for_review(image) -> AltTextSuggestion | None:
    """What the edit view shows: the newest suggestion still waiting, or the newest failure
    if that came after it."""
    return image.alt_text_suggestions.filter(
        status__in=[AltTextSuggestion.PENDING, AltTextSuggestion.FAILED]).first()


def note_saved_description(image) -> None:
    """The editor saved the image form: a pending suggestion whose text is now the alt text was
    used; nothing else changes."""
    description = (image.description or "").strip()
    if description:
        image.alt_text_suggestions.filter(
            status=AltTextSuggestion.PENDING, text=description,
        ).update(status=AltTextSuggestion.USED)
