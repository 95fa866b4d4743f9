# An example grader file of config.d: copy it to data/config.d/grader/ and run
# ./studio restart hub (the grader restarts with the hub). `grader serve --help-all`
# lists every setting.
c.GraderSettings.submission_rate = 10  # noqa: F821 -- submissions per learner per minute
c.GraderSettings.max_upload_bytes = 50 * 1024 * 1024  # noqa: F821
c.DockerSandbox.mem_limit = "1g"  # noqa: F821 -- each grading sandbox
c.DockerSandbox.pids_limit = 256  # noqa: F821
c.SandboxPool.warm = 2  # noqa: F821
