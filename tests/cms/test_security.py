"""Bad input: XSS in rich text and comments, CSRF, upload size and type limits."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from studio_site.blog.models import BlogPage, Comment
from wagtail.documents.models import Document
from wagtail.images.models import Image as WagtailImage
from wagtail.rich_text import RichText

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py
pytestmark = pytest.mark.django_db
XSS = ('<p>Hi<script>alert("x")</script><img src="/x.png" onerror="alert(1)">'
       '<a href="javascript:alert(2)">click</a><iframe src="http://evil.test"></iframe>'
       '<img src="http://evil.test/track.png"></p>')


def test_rich_text_xss_is_neutralised(client: Client) -> None:
    post = BlogPage.objects.get(slug="post-1")
    post.body = [("paragraph", RichText(XSS))]
    post.save_revision().publish()
    html = client.get("/blog/post-1/").content.decode()
    assert "Hi" in html and "click" in html
    for bad in ("<script>alert", "onerror", "javascript:", "<iframe", "evil.test"):
        assert bad not in html, bad


def test_course_description_xss_from_sync_is_neutralised(client: Client) -> None:
    from studio_site.catalogue.sync import sync_catalogue

    sync_catalogue({"courses": [{"id": "intro-python", "title": "Intro", "description": XSS}]})
    html = client.get("/courses/intro-python/").content.decode()
    assert "Hi" in html and "<script>alert" not in html and "onerror" not in html


def test_comment_xss_is_escaped(client: Client) -> None:
    client.login(username="alan", password=DEMO_PASSWORD)
    post = BlogPage.objects.get(slug="post-1")
    response = client.post(f"/blog/comment/{post.pk}/", {"body": XSS})
    assert response.status_code == 302
    assert Comment.objects.filter(page=post).count() == 1
    html = client.get("/blog/post-1/").content.decode()
    assert "&lt;script&gt;alert" in html
    assert "<script>alert" not in html and '<img src="/x.png" onerror' not in html


def test_hidden_comment_not_shown(client: Client, users) -> None:
    post = BlogPage.objects.get(slug="post-1")
    Comment.objects.create(page=post, author=users["alan"], body="spam spam", approved=False)
    assert "spam spam" not in client.get("/blog/post-1/").content.decode()


@pytest.mark.parametrize("url", ["/courses/intro-python/enrol/", "/community/groups/python-beginners/join/"])
def test_csrf_enforced_on_forms(url: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.login(username="grace", password=DEMO_PASSWORD)
    assert client.post(url).status_code == 403


def test_comment_needs_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    client.login(username="alan", password=DEMO_PASSWORD)
    post = BlogPage.objects.get(slug="post-1")
    assert client.post(f"/blog/comment/{post.pk}/", {"body": "hi"}).status_code == 403
    assert not Comment.objects.filter(body="hi").exists()


def admin_client() -> Client:
    client = Client()
    client.login(username="admin", password=DEMO_PASSWORD)
    return client


def png_bytes(size: int = 16) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_document_upload_limits(settings) -> None:
    settings.LS_DOCUMENT_MAX_UPLOAD_SIZE = 1024
    client = admin_client()
    big = SimpleUploadedFile("big.pdf", b"%PDF" + b"0" * 4096, content_type="application/pdf")
    response = client.post("/admin/documents/add/", {"title": "big", "file": big})
    assert response.status_code == 200
    assert "the limit for this kind of file is 1 KiB" in response.content.decode()
    exe = SimpleUploadedFile("tool.exe", b"MZ" + b"0" * 10)
    response = client.post("/admin/documents/add/", {"title": "exe", "file": exe})
    assert response.status_code == 200
    assert "File extension “exe” is not allowed" in response.content.decode()
    assert not Document.objects.filter(title__in=["big", "exe"]).exists()


def test_notebook_upload_must_be_a_notebook() -> None:
    client = admin_client()
    fake = SimpleUploadedFile("lesson.ipynb", b"print('not a notebook')")
    response = client.post("/admin/documents/add/", {"title": "fake", "file": fake})
    assert "is not a valid Jupyter notebook" in response.content.decode()
    good = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []})
    ok = client.post("/admin/documents/add/", {
        "title": "good", "file": SimpleUploadedFile("good.ipynb", good.encode())})
    assert ok.status_code == 302
    assert Document.objects.filter(title="good").exists()


def test_image_upload_limits(settings) -> None:
    client = admin_client()
    settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE = 200
    big = SimpleUploadedFile("big.png", png_bytes(256), content_type="image/png")
    response = client.post("/admin/images/add/", {"title": "big", "file": big})
    assert "This file is too big" in response.content.decode()
    svg = SimpleUploadedFile("x.svg", b"<svg onload='alert(1)'/>", content_type="image/svg+xml")
    response = client.post("/admin/images/add/", {"title": "svg", "file": svg})
    assert response.status_code == 200  # the form again, with its error
    assert not WagtailImage.objects.filter(title__in=["big", "svg"]).exists()


def test_learner_cannot_reach_admin(client: Client) -> None:
    client.login(username="alan", password=DEMO_PASSWORD)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_public_pages_forbid_foreign_and_inline_scripts(client: Client) -> None:
    for url in ("/", "/blog/post-1/", "/blog/post-1/"):  # the second is a cache hit
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self' http://testserver;" in policy
        assert "default-src 'self'" in policy and "object-src 'none'" in policy
    admin = Client()
    admin.login(username="edith", password=DEMO_PASSWORD)
    assert "Content-Security-Policy" not in admin.get("/admin/")
