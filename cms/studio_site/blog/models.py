"""Blog: an index with tag, category and RSS routes, posts and comments."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.db import models
from django.shortcuts import get_object_or_404
from django.utils import timezone
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from studio_site.base.ai_editor import AIAssistPanel
from studio_site.base.blocks import ArticleStreamBlock
from studio_site.base.models import Category

from .forms import COMMENT_MAX_LENGTH, CommentForm


class BlogPageTag(TaggedItemBase):
    content_object = ParentalKey("BlogPage", related_name="tagged_items", on_delete=models.CASCADE)


class BlogIndexPage(RoutablePageMixin, Page):
    """Lists posts; /tag/<tag>/, /category/<slug>/ and /feed/ (RSS) are routes of it."""

    intro = models.TextField(blank=True)
    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["blog.BlogPage"]
    parent_page_types = ["home.HomePage"]
    max_count = 1

    def posts(self):
        return (BlogPage.objects.child_of(self).live().public().order_by("-date", "-pk")
                .prefetch_related("categories"))

    @path("")
    def index(self, request):
        return self.render(request, context_overrides={"posts": self.posts()[:50]})

    @path("tag/<str:tag>/")
    def by_tag(self, request, tag: str):
        posts = self.posts().filter(tags__name=tag)
        return self.render(request, context_overrides={"posts": posts, "filter_label": f"Tag: {tag}"})

    @path("category/<slug:slug>/")
    def by_category(self, request, slug: str):
        category = get_object_or_404(Category, slug=slug)
        posts = self.posts().filter(categories=category)
        return self.render(
            request, context_overrides={"posts": posts, "filter_label": category.name}
        )

    @path("feed/")
    def feed(self, request):
        from .feeds import BlogFeed

        return BlogFeed(self)(request)


class BlogPage(Page):
    """A blog post."""

    date = models.DateField("post date", default=timezone.now)
    intro = models.CharField(max_length=300, blank=True)
    body = StreamField(ArticleStreamBlock(), blank=True)
    categories = ParentalManyToManyField(Category, blank=True, related_name="posts")
    tags = ClusterTaggableManager(through=BlogPageTag, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="blog_posts",
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("date"),
        FieldPanel("intro"),
        FieldPanel("body"),
        FieldPanel("categories", widget=forms.CheckboxSelectMultiple),
        FieldPanel("tags"),
        AIAssistPanel(),
    ]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    parent_page_types = ["blog.BlogIndexPage"]
    subpage_types: list[str] = []

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["comments"] = self.comments.filter(approved=True).select_related("author")
        context["comment_form"] = CommentForm() if request.user.is_authenticated else None
        return context


class Comment(models.Model):
    """A reader's comment on a post: plain text, shown once not hidden by an editor."""

    page = models.ForeignKey(BlogPage, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    body = models.TextField(max_length=COMMENT_MAX_LENGTH)
    created = models.DateTimeField(auto_now_add=True)
    approved = models.BooleanField(
        default=True, help_text="Editors untick this to hide the comment (moderation)."
    )

    class Meta:
        ordering = ["created"]

    def __str__(self) -> str:
        return f"{self.author} on {self.page}: {self.body[:40]}"
