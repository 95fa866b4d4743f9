from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from studio_site.catalogue.sync import CatalogueError, load_source, sync_catalogue


class Command(BaseCommand):
    help = "Create/update course pages from the grader's catalogue JSON (a file or a URL)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "source", nargs="?", default=None,
            help="Path or http(s) URL of the catalogue JSON (default: LS_CATALOGUE_SOURCE).",
        )

    def handle(self, *args, source=None, **options) -> None:
        source = source or settings.CATALOGUE_SOURCE
        if not source:
            raise CommandError("Give a file or URL, or set LS_CATALOGUE_SOURCE.")
        try:
            report = sync_catalogue(load_source(source))
        except CatalogueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Catalogue synced: {report}")
