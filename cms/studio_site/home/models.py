"""The home page."""

from __future__ import annotations

from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index


class HomePage(Page):
    """The site's front page: a welcome and the newest posts, tutorials and courses."""

    intro = RichTextField(blank=True, features=["bold", "italic", "link", "ol", "ul"])
    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        from studio_site.blog.models import BlogPage
        from studio_site.catalogue.models import CoursePage
        from studio_site.tutorials.models import TutorialPage

        context = super().get_context(request, *args, **kwargs)
        context["latest_posts"] = BlogPage.objects.live().public().order_by("-date")[:3]
        context["latest_tutorials"] = (
            TutorialPage.objects.live().public().order_by("-first_published_at")[:3]
        )
        context["courses"] = CoursePage.objects.live().public().order_by("title")[:6]
        return context
