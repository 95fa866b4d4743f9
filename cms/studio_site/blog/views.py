from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from studio_site.base.page_cache import purge_page_cache

from .forms import CommentForm
from .models import BlogPage, Comment

log = logging.getLogger(__name__)


@login_required
@require_POST
def add_comment(request: HttpRequest, page_id: int) -> HttpResponse:
    page = get_object_or_404(BlogPage.objects.live().public(), pk=page_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        Comment.objects.create(page=page, author=request.user, body=form.cleaned_data["body"])
        purge_page_cache()
        messages.success(request, "Comment posted.")
    else:
        messages.error(request, "Your comment is empty or too long (4000 characters at most).")
    return redirect(page.url + "#comments")
