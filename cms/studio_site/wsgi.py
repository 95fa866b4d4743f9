"""WSGI entry point: `gunicorn studio_site.wsgi`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio_site.settings.production")
application = get_wsgi_application()
