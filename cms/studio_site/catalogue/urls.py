from django.urls import path

from . import views

app_name = "catalogue"
urlpatterns = [
    path("sync/", views.sync_endpoint, name="sync"),
    path("<slug:course_id>/enrol/", views.enrol, name="enrol"),
    path("<slug:course_id>/leave/", views.unenrol, name="unenrol"),
]
