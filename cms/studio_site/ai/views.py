"""AI assistant views inside the Wagtail admin. Errors become messages; nothing breaks."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST
from wagtail.models import Page

from . import drafting
from .client import HOW_TO_TURN_ON, AIDraftingError, AIOff, ai_enabled
from .forms import DraftPostForm, ExerciseForm, ImproveForm
from .models import ExerciseDraft


def assistant(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "ai/assistant.html", {
        "ai_on": ai_enabled(), "how_to": HOW_TO_TURN_ON,
        "post_form": DraftPostForm(), "exercise_form": ExerciseForm(),
        "drafts": ExerciseDraft.objects.select_related("course")[:30],
    })


def _fail(request: HttpRequest, error: Exception, back: str) -> HttpResponse:
    messages.error(request, str(error))
    return redirect(back)


@require_POST
def draft_post(request: HttpRequest) -> HttpResponse:
    form = DraftPostForm(request.POST)
    if not form.is_valid():
        return _fail(request, Exception("Give a topic (500 characters at most)."), "ai:assistant")
    try:
        page = drafting.draft_blog_post(form.cleaned_data["topic"], request.user)
    except (AIOff, AIDraftingError) as error:
        return _fail(request, error, "ai:assistant")
    messages.success(request, "Draft post created. Review it, then publish it yourself.")
    return redirect("wagtailadmin_pages:edit", page.pk)


def _editable(request: HttpRequest, page_id: int) -> Page:
    page = get_object_or_404(Page, pk=page_id).specific
    if not page.permissions_for_user(request.user).can_edit():
        raise PermissionDenied("You cannot edit this page.")
    return page


def improve(request: HttpRequest, page_id: int) -> HttpResponse:
    page = _editable(request, page_id)
    form = ImproveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        back = reverse("wagtailadmin_pages:edit", args=[page.pk])
        try:
            drafting.improve_page(page, request.user, form.cleaned_data["instructions"])
        except (AIOff, AIDraftingError) as error:
            return _fail(request, error, back)
        messages.success(request, "Improved text saved as a draft revision. Review and publish.")
        return redirect(back)
    return TemplateResponse(request, "ai/confirm.html", {
        "page": page, "form": form, "ai_on": ai_enabled(), "how_to": HOW_TO_TURN_ON,
        "action": "Improve the text", "url": reverse("ai:improve", args=[page.pk]),
    })


def summarise(request: HttpRequest, page_id: int) -> HttpResponse:
    page = _editable(request, page_id)
    if request.method == "POST":
        back = reverse("wagtailadmin_pages:edit", args=[page.pk])
        try:
            drafting.summarise_tutorial(page, request.user)
        except (AIOff, AIDraftingError) as error:
            return _fail(request, error, back)
        messages.success(request, "Summary drafted into a new draft revision. Review and publish.")
        return redirect(back)
    return TemplateResponse(request, "ai/confirm.html", {
        "page": page, "ai_on": ai_enabled(), "how_to": HOW_TO_TURN_ON,
        "action": "Summarise this tutorial", "url": reverse("ai:summarise", args=[page.pk]),
    })


@require_POST
def exercise(request: HttpRequest) -> HttpResponse:
    form = ExerciseForm(request.POST)
    if not form.is_valid():
        return _fail(request, Exception("Give a topic for the exercise."), "ai:assistant")
    try:
        draft = drafting.draft_exercise(
            form.cleaned_data["topic"], request.user, form.cleaned_data["course"],
            form.cleaned_data["assignment_id"],
        )
    except (AIOff, AIDraftingError) as error:
        return _fail(request, error, "ai:assistant")
    messages.success(request, f"Exercise draft created: {draft.title}. Download and review it.")
    return redirect("ai:assistant")


def download_exercise(request: HttpRequest, pk: int) -> HttpResponse:
    draft = get_object_or_404(ExerciseDraft, pk=pk)
    response = HttpResponse(json.dumps(draft.notebook, indent=1),
                            content_type="application/x-ipynb+json")
    response["Content-Disposition"] = f'attachment; filename="{draft.assignment_id}.ipynb"'
    return response
