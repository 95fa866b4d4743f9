"""Wagtail pages: where they may be created, that they render and route, feeds, search."""

from __future__ import annotations

import json

from django.core.files.base import ContentFile
from studio_site.blog.models import BlogIndexPage, BlogPage
from studio_site.catalogue.models import CatalogueIndexPage, CoursePage
from studio_site.home.models import HomePage
from studio_site.tutorials.models import TutorialIndexPage, TutorialPage
from wagtail.documents.models import Document
from wagtail.models import Page
from wagtail.rich_text import RichText
from wagtail.test.utils import WagtailPageTestCase


def notebook_bytes(output_html: str = "<b>bold output</b>") -> bytes:
    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [
            {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": "# Squares"},
            {"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": 1,
             "source": "print([n * n for n in range(4)])",
             "outputs": [
                 {"output_type": "stream", "name": "stdout", "text": "[0, 1, 4, 9]\n"},
                 {"output_type": "display_data", "metadata": {},
                  "data": {"text/html": output_html, "text/plain": "x"}},
                 {"output_type": "display_data", "metadata": {},
                  "data": {"image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4"
                                        "nGNgYPgPAAEDAQAIicLsAAAAAElFTkSuQmCC",
                           "text/plain": "<Figure>"}},
             ]},
        ],
    }).encode()


class PageTreeTests(WagtailPageTestCase):
    def test_creatable_where_allowed(self) -> None:
        self.assertCanCreateAt(HomePage, BlogIndexPage)
        self.assertCanCreateAt(BlogIndexPage, BlogPage)
        self.assertCanCreateAt(TutorialIndexPage, TutorialPage)
        self.assertCanCreateAt(CatalogueIndexPage, CoursePage)
        self.assertCanNotCreateAt(HomePage, BlogPage)
        self.assertCanNotCreateAt(BlogPage, BlogPage)
        self.assertCanNotCreateAt(HomePage, CoursePage)
        self.assertAllowedSubpageTypes(BlogIndexPage, {BlogPage})

    def test_every_demo_page_renders(self) -> None:
        for page in Page.objects.live().filter(depth__gte=2).specific():
            self.assertPageIsRenderable(page)

    def test_blog_index_routes(self) -> None:
        index = BlogIndexPage.objects.get()
        self.assertPageIsRoutable(index)
        self.assertPageIsRoutable(index, "tag/welcome/")
        self.assertPageIsRoutable(index, "category/python/")
        self.assertPageIsRoutable(index, "feed/")
        self.assertPageIsRenderable(index, "tag/welcome/")
        tagged = self.client.get("/blog/tag/welcome/")
        self.assertContains(tagged, "Welcome to Learning Studio")
        self.assertNotContains(self.client.get("/blog/tag/nothing-here/"), "Welcome to")

    def test_rss_feed(self) -> None:
        response = self.client.get("/blog/feed/")
        self.assertEqual(response["Content-Type"], "application/rss+xml; charset=utf-8")
        self.assertContains(response, "<title>Welcome to Learning Studio</title>")
        self.assertContains(response, "<link>http://testserver/blog/post-1/</link>")

    def test_sitemap_lists_pages(self) -> None:
        response = self.client.get("/sitemap.xml")
        self.assertContains(response, "/courses/intro-python/")
        self.assertContains(response, "/tutorials/lists-and-loops/")

    def test_search_finds_posts_tutorials_and_courses(self) -> None:
        response = self.client.get("/search/", {"q": "loop"})
        self.assertContains(response, "Lists and loops")
        response = self.client.get("/search/", {"q": "Introduction"})
        self.assertContains(response, "Introduction to Python")
        self.assertContains(self.client.get("/search/", {"q": "zebra-nothing"}), "No results")

    def test_seo_fields_rendered(self) -> None:
        post = BlogPage.objects.get(slug="post-1")
        post.seo_title = "Why notebooks"
        post.search_description = "Notebooks make learning Python visible."
        post.save_revision().publish()
        response = self.client.get("/blog/post-1/")
        self.assertContains(response, "<title>Why notebooks · Learning Studio</title>", html=False)
        self.assertContains(response, 'content="Notebooks make learning Python visible."')
        self.assertContains(response, '<link rel="canonical" href="http://localhost/blog/post-1/">')

    def test_code_block_is_highlighted_on_the_server(self) -> None:
        response = self.client.get("/tutorials/lists-and-loops/")
        self.assertContains(response, '<div class="highlight">')
        self.assertContains(response, '<span class="k">for</span>')

    def test_notebook_preview_renders_sanitised(self) -> None:
        evil = '<b>bold output</b><script>alert(1)</script><img src="x" onerror="alert(2)">'
        document = Document(title="Squares")
        document.file.save("squares.ipynb", ContentFile(notebook_bytes(evil)))
        document.save()
        tutorial = TutorialPage.objects.get(slug="lists-and-loops")
        tutorial.body.append(("notebook", {"title": "Squares notebook", "notebook": document}))
        tutorial.save_revision().publish()
        response = self.client.get("/tutorials/lists-and-loops/")
        html = response.content.decode()
        self.assertIn("Squares notebook", html)
        self.assertIn("[0, 1, 4, 9]", html)
        self.assertIn("bold output", html)
        self.assertNotIn("<script>alert(1)", html)
        self.assertNotIn("onerror", html)
        self.assertIn('src="data:image/png;base64,iVBORw0KGgo', html)  # plots survive

    def test_image_block_renders_and_is_served(self) -> None:
        import io

        from PIL import Image as PILImage
        from wagtail.images.models import Image

        buffer = io.BytesIO()
        PILImage.new("RGB", (40, 30), "blue").save(buffer, "PNG")
        image = Image(title="Blue", file=ContentFile(buffer.getvalue(), name="blue.png"))
        image.save()
        post = BlogPage.objects.get(slug="post-1")
        post.body.append(("image", {"image": image, "caption": "A blue square"}))
        post.save_revision().publish()
        html = self.client.get("/blog/post-1/").content.decode()
        self.assertIn("A blue square", html)
        src = html.split('<img alt="Blue"')[1].split('src="')[1].split('"')[0]
        self.assertTrue(src.startswith("/media/images/"), src)
        served = self.client.get(src)
        self.assertEqual(served.status_code, 200)
        self.assertEqual(b"".join(served.streaming_content)[:4], b"\x89PNG")
        # Documents are not served raw from /media (their privacy is checked by Wagtail).
        self.assertEqual(self.client.get("/media/documents/x.ipynb").status_code, 404)

    def test_editors_moderate_community_in_admin(self) -> None:
        self.client.login(username="edith", password="studio-demo-2026")
        for url in ("/admin/snippets/community/studygroup/", "/admin/snippets/blog/comment/",
                    "/admin/snippets/community/event/"):
            self.assertEqual(self.client.get(url).status_code, 200, url)
        self.client.logout()
        self.client.login(username="alan", password="studio-demo-2026")
        self.assertEqual(self.client.get("/admin/snippets/community/studygroup/").status_code, 302)

    def test_home_lists_courses_and_posts(self) -> None:
        response = self.client.get("/")
        self.assertContains(response, "Introduction to Python")
        self.assertContains(response, "Welcome to Learning Studio")
        self.assertContains(response, 'name="viewport"')

    def test_stylesheet_is_local(self) -> None:
        html = self.client.get("/").content.decode()
        self.assertNotIn("https://", html.replace("http://localhost", ""))

    def test_editor_creates_post_through_admin_form(self) -> None:
        from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

        self.client.login(username="edith", password="studio-demo-2026")
        index = BlogIndexPage.objects.get()
        self.assertCanCreate(index, BlogPage, nested_form_data({
            "title": "Made in the editor", "slug": "made-in-editor", "date": "2026-11-25",
            "intro": "Hello", "categories": [],
            "tags": "editor",
            "body": streamfield([
                ("paragraph", rich_text("<p>From the admin.</p>")),
                ("code", {"language": "python", "code": "x = 1"}),
            ]),
            "comments": {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0},
            "action-publish": "publish",
        }))
        created = BlogPage.objects.get(slug="made-in-editor")
        self.assertEqual([b.block_type for b in created.body], ["paragraph", "code"])
        self.assertTrue(created.live)
        self.assertContains(self.client.get("/blog/made-in-editor/"), "From the admin.")

    def test_new_post_via_admin_is_draft_until_published(self) -> None:
        self.client.login(username="edith", password="studio-demo-2026")
        index = BlogIndexPage.objects.get()
        post = BlogPage(title="Draft only", slug="draft-only", live=False,
                        body=[("paragraph", RichText("<p>secret</p>"))])
        index.add_child(instance=post)
        self.assertEqual(self.client.get("/blog/draft-only/").status_code, 404)
        edit = self.client.get(f"/admin/pages/{post.pk}/edit/")
        self.assertEqual(edit.status_code, 200)
