"""Real services for the `course import` tests: the Wagtail site as a process of its own,
and the hub + grader the grader's service tests start (tests/grader/service)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import requests
import service_support
from courses_testlib import REPO
from tooling import start_process, stop_process

#: The site's test settings carry this shared secret (cms/studio_site/settings/test.py).
CMS_SECRET = "test-grade-secret"

_CMS_SCRIPT = """
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "studio_site.settings.test"
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("seed_demo", structure_only=True, verbosity=0)
from studio_site.accounts.models import User
User.objects.get_or_create(username="ada", defaults={{"email": "ada@studio.localhost"}})
call_command("runserver", "127.0.0.1:{port}", use_reloader=False, use_threading=True)
"""


class CMSProcess:
    """The Wagtail site with its test settings and a fresh SQLite database, on loopback."""

    def __init__(self, root: Path) -> None:
        self.port = service_support.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = root / "cms.log"
        script = textwrap.dedent(_CMS_SCRIPT).format(port=self.port)
        self._log = open(self.log_path, "wb")
        self.proc = start_process(
            [sys.executable, "-c", script], cwd=root, stdout=self._log,
            stderr=subprocess.STDOUT, env={**os.environ, "LS_CMS_DATA_DIR": str(root / "data"),
                 "PYTHONPATH": str(REPO / "cms")},
        )

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the CMS exited:\n" + self.log_path.read_text()[-4000:])
            try:
                requests.get(self.url + "/courses/", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.5)
        raise RuntimeError("the CMS did not come up:\n" + self.log_path.read_text()[-4000:])

    def stop(self) -> None:
        stop_process(self.proc)
        self._log.close()
