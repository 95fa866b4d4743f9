"""The AI assistant page in the Wagtail admin: draft a whole post, generate exercises.

The AI controls inside the page editor are in editor_api.py. Errors become messages here;
nothing breaks."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from . import drafting
from .client import HOW_TO_TURN_ON, AIDraftingError, AIOff, ai_enabled
from .forms import DraftPostForm, ExerciseForm
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
