from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("courses", views.CourseViewSet, basename="course")
router.register("lessons", views.LessonViewSet, basename="lesson")
router.register("progress", views.ProgressViewSet, basename="progress")
router.register("community/groups", views.StudyGroupViewSet, basename="studygroup")
router.register("community/events", views.EventViewSet, basename="event")
router.register("community/challenges", views.ChallengeViewSet, basename="challenge")

app_name = "api"
urlpatterns = [
    path("", include(router.urls)),
    path("search/", views.search, name="search"),
    path("me/", views.me, name="me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]
