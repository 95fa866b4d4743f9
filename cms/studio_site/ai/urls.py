from django.urls import path

from . import views

app_name = "ai"
urlpatterns = [
    path("", views.assistant, name="assistant"),
    path("draft-post/", views.draft_post, name="draft_post"),
    path("improve/<int:page_id>/", views.improve, name="improve"),
    path("summarise/<int:page_id>/", views.summarise, name="summarise"),
    path("exercise/", views.exercise, name="exercise"),
    path("exercise/<int:pk>/download/", views.download_exercise, name="download_exercise"),
]
