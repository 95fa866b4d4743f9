# An example grader_config.py for an operator who runs the grader with their own settings.
# Put it in the service's working directory (the "cwd" of its JupyterHub service entry; in
# the stack /srv/studio/data/grader in the hub container, on the hub-data volume) or pass
# --config=FILE to any `grader` subcommand. Every setting and its help:
# `grader serve --help-all`. tests/test_docs.py loads this file and checks every setting.
c = get_config()  # noqa: F821

# Where state lives. In the stack the hub sets GRADER_DATABASE_URL and GRADER_BLOB_DIR
# for the grader, and a value here would win over them: set these only for a grader you
# run yourself.
# c.GraderSettings.database_url = "postgresql+psycopg://grader:secret@db:5432/grader"
# c.GraderSettings.blob_dir = "/srv/grader/blobs"

# Grading capacity of this process, and how the queue retries.
c.GraderSettings.worker_count = 2
c.GraderSettings.lease_seconds = 120
c.GraderSettings.max_attempts = 3

# What learners may upload.
c.GraderSettings.max_upload_bytes = 20 * 1024 * 1024
c.GraderSettings.max_upload_files = 50

# Course roles from hub groups.
c.GraderSettings.instructor_group_template = "instructors:{course}"
c.GraderSettings.learner_group_template = "learners:{course}"

# Grade events to the site (or GRADER_WEBHOOK_URL / STUDIO_SIGNING_SECRET, the secret the
# site has under the same name): the site's receiver is /progress/events/.
# c.GraderSettings.webhook_url = "http://127.0.0.1:8010/progress/events/"
# c.GraderSettings.webhook_secret = "..."

# Several processes on one database: migrate once with `grader db upgrade`.
c.GraderApp.upgrade_db = False
c.GraderApp.ip = "0.0.0.0"

# The grading sandboxes (grader.engine.sandbox).
c.DockerSandbox.image = "learning-studio/learner:latest"
c.DockerSandbox.mem_limit = "512m"
# gVisor, once registered with the Docker engine (grader-operator.md); "" is Docker's default.
c.DockerSandbox.runtime = ""
c.SandboxPool.warm = 2

# The AI tutor (docs/tutor-instructor.md; the endpoint: OPENAI_API_KEY / OPENAI_BASE_URL /
# OPENAI_MODEL in the grader's environment, which the hub passes on).
c.GraderSettings.tutor_default_policy = "hints"
c.GraderSettings.tutor_daily_limit = 30        # requests per learner, course and day (UTC)
c.GraderSettings.tutor_rate_per_minute = 4     # requests per learner and minute
c.GraderSettings.tutor_course_daily_tokens = 500_000
c.GraderSettings.tutor_course_monthly_cost = 20.0
c.GraderSettings.tutor_course_budgets = {"intro-python": {"monthly_cost": 50.0}}
