from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from studio_site.base.metrics import metrics_view
from studio_site.home import views as home_views

urlpatterns = [
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/", include("studio_site.accounts.urls")),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/v1/", include("studio_site.api.urls")),
    path("progress/", include("studio_site.progress.urls")),
    path("community/", include("studio_site.community.urls")),
    path("courses/", include("studio_site.catalogue.urls")),
    path("blog/", include("studio_site.blog.urls")),
    path("search/", home_views.search, name="search"),
    path("healthz", home_views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("sitemap.xml", sitemap),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
else:
    # Uploaded images are served by the site itself (no separate web server in the stack).
    # Only images: documents go through Wagtail's view, which checks their privacy.
    from django.urls import re_path
    from django.views.static import serve

    urlpatterns += [
        re_path(r"^media/(?P<path>(?:images|original_images)/[^/]+)$", serve,
                {"document_root": settings.MEDIA_ROOT}),
    ]

urlpatterns += [path("", include(wagtail_urls))]
