from django.urls import path

from . import views

app_name = "progress"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("events/", views.grade_event, name="grade_event"),
    path("course/<slug:course_id>/", views.instructor_course, name="instructor_course"),
]
