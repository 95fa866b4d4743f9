from django.urls import path

from . import editor_api, views

app_name = "ai"
urlpatterns = [
    path("", views.assistant, name="assistant"),
    path("draft-post/", views.draft_post, name="draft_post"),
    path("exercise/", views.exercise, name="exercise"),
    # JSON, for the AI controls inside the page editor
    path("editor/draft/", editor_api.draft, name="editor_draft"),
    path("editor/improve/", editor_api.improve, name="editor_improve"),
    path("editor/summarise/", editor_api.summarise, name="editor_summarise"),
]
