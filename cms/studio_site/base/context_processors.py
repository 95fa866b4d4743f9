from django.conf import settings


def studio(request) -> dict:
    return {"HUB_URL": settings.HUB_URL, "SITE_URL": settings.SITE_URL}
