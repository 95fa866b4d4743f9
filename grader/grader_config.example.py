# Example grader_config.py: put it in the service's working directory ("cwd" of the
# JupyterHub service entry) or pass --config=FILE. Every setting and its help:
#   python -m grader serve --help-all
c = get_config()  # noqa: F821

# Where state lives (or GRADER_DATABASE_URL / GRADER_BLOB_DIR in the environment).
c.GraderSettings.database_url = "postgresql+psycopg://grader:secret@db:5432/grader"
c.GraderSettings.blob_dir = "/srv/grader/blobs"

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

# Grade events to the CMS (or GRADER_WEBHOOK_URL / GRADER_WEBHOOK_SECRET).
# c.GraderSettings.webhook_url = "http://cms:8000/grader/events/"
# c.GraderSettings.webhook_secret = "..."

# Several processes on one database: migrate once with `python -m grader db upgrade`.
c.GraderApp.upgrade_db = False
c.GraderApp.ip = "0.0.0.0"

# The sandbox (the engine's settings; see grader/engine-README.md).
c.DockerSandbox.image = "learning-studio/learner:latest"
c.DockerSandbox.mem_limit = "512m"
c.SandboxPool.warm = 2
