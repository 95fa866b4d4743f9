"""Tutorials: step-by-step articles with code, images and notebook previews."""

from __future__ import annotations

from django import forms
from django.db import models
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from studio_site.base.ai_editor import AIAssistPanel
from studio_site.base.blocks import ArticleStreamBlock
from studio_site.base.models import Category


class TutorialPageTag(TaggedItemBase):
    content_object = ParentalKey(
        "TutorialPage", related_name="tagged_items", on_delete=models.CASCADE
    )


class TutorialIndexPage(Page):
    """Lists tutorials, filterable by level and tag (?level=beginner&tag=pandas)."""

    intro = models.TextField(blank=True)
    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["tutorials.TutorialPage"]
    parent_page_types = ["home.HomePage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        tutorials = TutorialPage.objects.child_of(self).live().public().order_by("title")
        level = request.GET.get("level")
        tag = request.GET.get("tag")
        if level:
            tutorials = tutorials.filter(level=level)
        if tag:
            tutorials = tutorials.filter(tags__name=tag)
        context.update(tutorials=tutorials, levels=TutorialPage.LEVELS)
        return context


class TutorialPage(Page):
    """One tutorial."""

    LEVELS = [("beginner", "Beginner"), ("intermediate", "Intermediate"), ("advanced", "Advanced")]

    intro = models.CharField(max_length=300, blank=True)
    level = models.CharField(max_length=20, choices=LEVELS, default="beginner")
    minutes = models.PositiveIntegerField("reading time (minutes)", default=10)
    summary = models.TextField(
        blank=True, help_text="A short summary (the AI assistant can draft one)."
    )
    body = StreamField(ArticleStreamBlock(), blank=True)
    categories = ParentalManyToManyField(Category, blank=True, related_name="tutorials")
    tags = ClusterTaggableManager(through=TutorialPageTag, blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("level"),
        FieldPanel("minutes"),
        FieldPanel("summary"),
        FieldPanel("body"),
        FieldPanel("categories", widget=forms.CheckboxSelectMultiple),
        FieldPanel("tags"),
        AIAssistPanel(),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("intro"),
        index.SearchField("summary"),
        index.SearchField("body"),
        index.FilterField("level"),
    ]
    parent_page_types = ["tutorials.TutorialIndexPage"]
    subpage_types: list[str] = []
