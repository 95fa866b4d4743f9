from django.urls import path

from . import alt_text_views, editor_api, views

app_name = "ai"
urlpatterns = [
    path("", views.assistant, name="assistant"),
    path("draft-post/", views.draft_post, name="draft_post"),
    path("exercise/", views.exercise, name="exercise"),
    # JSON, for the AI controls inside the page editor
    path("editor/draft/", editor_api.draft, name="editor_draft"),
    path("editor/improve/", editor_api.improve, name="editor_improve"),
    path("editor/summarise/", editor_api.summarise, name="editor_summarise"),
    path("editor/code-example/", editor_api.code_example, name="editor_code_example"),
    # JSON, for the alt text box of the image edit view
    path("images/<int:image_id>/alt-text/", alt_text_views.suggest, name="suggest_alt_text"),
    path("images/alt-text/<int:suggestion_id>/dismiss/", alt_text_views.dismiss,
         name="dismiss_alt_text"),
]
