"""Settings of the grader service, declared once with their defaults and help.

Every setting can be given in a traitlets config file (``grader_config.py``:
``c.GraderSettings.database_url = "..."``) or, for the values an operator sets per
deployment, through the environment variable named in its help. The help text is the
documentation (``python -m grader serve --help-all`` prints it).
"""

from __future__ import annotations

import os
import re

from traitlets import Bool, Dict, Enum, Float, Integer, List, Unicode, default, validate
from traitlets.config import Configurable

from studio_contracts.signing import SECRET_ENV


def _env(name: str, fallback: str) -> str:
    return os.environ.get(name) or fallback


class GraderSettings(Configurable):
    """What an operator can change about one grader deployment."""

    service_name = Unicode(
        help="""Name of this service in JupyterHub (env JUPYTERHUB_SERVICE_NAME, default
        'grader'). Callers need the scope access:services!service=<name>.""",
    ).tag(config=True)

    @default("service_name")
    def _default_service_name(self) -> str:
        return _env("JUPYTERHUB_SERVICE_NAME", "grader")

    database_url = Unicode(
        help="""SQLAlchemy URL of the grader database (env GRADER_DATABASE_URL).
        SQLite by default; use postgresql+psycopg://user:pass@host/db to let several
        grader processes on several machines share one queue.""",
    ).tag(config=True)

    @default("database_url")
    def _default_database_url(self) -> str:
        return _env("GRADER_DATABASE_URL", "sqlite:///" + os.path.abspath("grader.sqlite"))

    blob_dir = Unicode(
        help="""Directory of the content-addressed blob store (env GRADER_BLOB_DIR):
        release sources, student versions, submissions and feedback, each stored once under
        its SHA-256. Several grader processes must see the same directory (a shared
        volume) or use another BlobStore.""",
    ).tag(config=True)

    @default("blob_dir")
    def _default_blob_dir(self) -> str:
        return _env("GRADER_BLOB_DIR", os.path.abspath("grader-blobs"))

    worker_count = Integer(
        help="""Grading workers in this process (env GRADER_WORKERS). Each grades one
        submission at a time in its own sandbox; 0 runs the API only (grade elsewhere with
        `python -m grader grade`). Default: the number of CPU cores.""",
    ).tag(config=True)

    @default("worker_count")
    def _default_worker_count(self) -> int:
        return int(_env("GRADER_WORKERS", str(os.cpu_count() or 1)))

    lease_seconds = Float(
        120.0,
        help="""How long a worker owns a running grading job without renewing its lease.
        A worker renews it while grading; a job whose lease expired (its grader died) is
        taken up again by another worker.""",
    ).tag(config=True)

    max_attempts = Integer(
        3,
        help="""How many times a grading job is tried (a crashed grader or an engine error
        counts as one try) before it is marked failed with its reason.""",
    ).tag(config=True)

    poll_seconds = Float(
        0.5,
        help="Seconds an idle worker waits before looking for queued jobs again.",
    ).tag(config=True)

    max_upload_bytes = Integer(
        20 * 1024 * 1024,
        help="Largest accepted submission or release upload, all files together, in bytes.",
    ).tag(config=True)

    max_upload_files = Integer(
        50,
        help="Most files accepted in one submission.",
    ).tag(config=True)

    max_path_length = Integer(
        200,
        help="Longest accepted relative file path in a submission.",
    ).tag(config=True)

    submission_rate = Integer(
        6,
        help="""Most submissions one learner may make in a minute, all assignments
        together; more are refused with 429 and when to try again, so one learner cannot
        fill the grading queue. 0: no limit.""",
    ).tag(config=True)

    blob_retention_seconds = Float(
        24 * 3600.0,
        help="""How old a stored file that nothing refers to must be before garbage
        collection removes it (`grader blobs gc`, and the service every blob_gc_interval).
        The wait keeps files of requests still in progress.""",
    ).tag(config=True)

    blob_gc_interval = Float(
        3600.0,
        help="""Seconds between the service's garbage collections of the blob store;
        0 turns them off (run `grader blobs gc` yourself).""",
    ).tag(config=True)

    file_name_pattern = Unicode(
        r"^[A-Za-z0-9_][A-Za-z0-9_. ()+\-]*$",
        help="""Regular expression each path segment of an uploaded file must match. The
        default refuses hidden files, shell-special and control characters.""",
    ).tag(config=True)

    @validate("file_name_pattern")
    def _compile_pattern(self, proposal):
        re.compile(proposal["value"])
        return proposal["value"]

    instructor_group_template = Unicode(
        "instructors:{course}",
        help="""JupyterHub group whose members are instructors of a course. Instructors
        can also be enrolled in the grader's own database.""",
    ).tag(config=True)

    learner_group_template = Unicode(
        "learners:{course}",
        help="""JupyterHub group whose members are learners of a course. Learners can also
        be enrolled in the grader's own database (POST /api/courses/{course}/enrollments).""",
    ).tag(config=True)

    course_creator_group = Unicode(
        "instructors",
        help="""JupyterHub group whose members may create courses (hub admins always
        may). The creator becomes the course's first instructor.""",
    ).tag(config=True)

    operator_services = List(
        Unicode(),
        help="""Hub services whose tokens act as the operator: they may create courses and
        release into any course, as `python -m grader` on the command line may. The stack's
        course import runs as one (studio-admin), so courses load before any instructor has
        logged in. Env GRADER_OPERATOR_SERVICES, comma-separated.""",
    ).tag(config=True)

    @default("operator_services")
    def _default_operator_services(self) -> list[str]:
        return [n.strip() for n in _env("GRADER_OPERATOR_SERVICES", "").split(",") if n.strip()]

    check_releases = Bool(
        True,
        help="""Before publishing a release, run the source version and the student
        version in the sandbox and refuse the release unless the source passes its tests
        and the student version fails them.""",
    ).tag(config=True)

    webhook_url = Unicode(
        help="""URL that receives grade events as signed JSON POSTs (env
        GRADER_WEBHOOK_URL). Empty: no events are sent.""",
    ).tag(config=True)

    @default("webhook_url")
    def _default_webhook_url(self) -> str:
        return _env("GRADER_WEBHOOK_URL", "")

    webhook_secret = Unicode(
        help="""The secret grade events are signed with (studio_contracts.signing; env
        STUDIO_SIGNING_SECRET, the same name the site reads). Required when webhook_url
        is set.""",
    ).tag(config=True)

    @default("webhook_secret")
    def _default_webhook_secret(self) -> str:
        return _env(SECRET_ENV, "")

    webhook_max_attempts = Integer(
        8,
        help="How many times one webhook event is tried (with doubling backoff) before it is dropped.",
    ).tag(config=True)

    webhook_timeout = Float(10.0, help="Seconds to wait for the webhook receiver.").tag(
        config=True
    )

    user_cache_seconds = Float(
        60.0,
        help="""How long the hub's answer about a user's groups is reused. Group changes
        on the hub (a new instructor) take effect after at most this long.""",
    ).tag(config=True)

    metrics_token = Unicode(
        help="""Bearer token that may read the grader's Prometheus metrics (GET
        <prefix>/metrics, and /metrics on GraderApp.metrics_port): give it to your
        Prometheus (env GRADER_METRICS_TOKEN; the stack sets it from STUDIO_METRICS_TOKEN
        in data/studio.env). Empty: only operators' hub tokens may read them.""",
    ).tag(config=True)

    @default("metrics_token")
    def _default_metrics_token(self) -> str:
        return _env("GRADER_METRICS_TOKEN", "")

    # ---- AI (the tutor, AI authoring): the same names as the site (one set for the stack)

    openai_api_key = Unicode(
        help="""Key of the OpenAI-compatible endpoint the grader's AI features call (env
        OPENAI_API_KEY, the name the site and the openai client read; the hub passes it).
        AI is off until this or openai_base_url is set; a local server may need no key.""",
    ).tag(config=True)

    @default("openai_api_key")
    def _default_openai_api_key(self) -> str:
        return _env("OPENAI_API_KEY", "")

    openai_base_url = Unicode(
        help="""Base URL of an OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1
        for a local model server (env OPENAI_BASE_URL). Empty: OpenAI itself.""",
    ).tag(config=True)

    @default("openai_base_url")
    def _default_openai_base_url(self) -> str:
        return _env("OPENAI_BASE_URL", "")

    openai_model = Unicode(
        help="Model the grader's AI features ask (env OPENAI_MODEL; default gpt-4o-mini).",
    ).tag(config=True)

    @default("openai_model")
    def _default_openai_model(self) -> str:
        return _env("OPENAI_MODEL", "gpt-4o-mini")

    ai_timeout = Float(
        help="""Seconds to wait for the AI endpoint: for a whole answer, and between two
        pieces of a streamed one (env GRADER_AI_TIMEOUT; default 60).""",
    ).tag(config=True)

    @default("ai_timeout")
    def _default_ai_timeout(self) -> float:
        return float(_env("GRADER_AI_TIMEOUT", "60"))

    # ---- the AI tutor (grader.service.tutor): its default policy, limits and budgets

    tutor_default_policy = Enum(
        ["off", "hints", "explain", "open"], "hints",
        help="""What the tutor may do in a course whose instructors set no policy: off,
        hints (guiding questions, names the concept), explain (also explains the error)
        or open (also answers free questions). Never the solution, whatever the policy.
        Instructors set their course's and each assignment's (PUT .../tutor/policy).""",
    ).tag(config=True)

    tutor_daily_limit = Integer(
        30,
        help="""Most tutor requests one learner may make per course per day (UTC); more
        are refused with 429 until midnight UTC. 0: no limit.""",
    ).tag(config=True)

    tutor_rate_per_minute = Integer(
        4,
        help="""Most tutor requests one learner may make in any minute, all courses
        together; more are refused with 429 and when to try again. 0: no limit.""",
    ).tag(config=True)

    tutor_course_daily_tokens = Integer(
        500_000,
        help="""Tokens (prompt and answer together) the tutor may use per course per day
        (UTC); when spent, the course's tutor answers 429 until midnight UTC. 0: no
        limit.""",
    ).tag(config=True)

    tutor_course_monthly_cost = Float(
        20.0,
        help="""Estimated cost (in the currency of the prices below) the tutor may spend
        per course per calendar month (UTC); when spent, the course's tutor answers 429
        until the 1st. 0: no limit.""",
    ).tag(config=True)

    tutor_course_budgets = Dict(
        help="""Per-course exceptions to the limits above: {course slug: {"daily_tokens":
        n, "monthly_cost": x, "learner_daily_limit": n}}; what a course does not name
        keeps the general setting. E.g. c.GraderSettings.tutor_course_budgets =
        {"intro-python": {"monthly_cost": 50.0}}.""",
    ).tag(config=True)

    @validate("tutor_course_budgets")
    def _check_budgets(self, proposal):
        known = {"daily_tokens", "monthly_cost", "learner_daily_limit"}
        for course, budget in proposal["value"].items():
            if not isinstance(budget, dict) or set(budget) - known:
                raise ValueError(f"tutor_course_budgets[{course!r}] must be a dict with only "
                                 f"{', '.join(sorted(known))}")
        return proposal["value"]

    def tutor_budget(self, course: str) -> dict:
        """The limits of one course: the general settings, with its exceptions."""
        own = self.tutor_course_budgets.get(course, {})
        return {"daily_tokens": own.get("daily_tokens", self.tutor_course_daily_tokens),
                "monthly_cost": own.get("monthly_cost", self.tutor_course_monthly_cost),
                "learner_daily_limit": own.get("learner_daily_limit", self.tutor_daily_limit)}

    tutor_price_prompt = Float(
        0.15,
        help="""Price of a million prompt tokens, to estimate cost (default: gpt-4o-mini's
        USD 0.15). Set 0 for a local model.""",
    ).tag(config=True)

    tutor_price_completion = Float(
        0.60,
        help="""Price of a million answer tokens, to estimate cost (default: gpt-4o-mini's
        USD 0.60). Set 0 for a local model.""",
    ).tag(config=True)

    tutor_max_answer_tokens = Integer(
        700,
        help="Longest tutor answer, in tokens (the endpoint's max_tokens).",
    ).tag(config=True)

