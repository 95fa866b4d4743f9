"""JSON logs (STUDIO_LOG_FORMAT=json): the shared formatter, and the hub's JupyterHub
configured with it as hub.setup does. The grader's are checked on a running service in
tests/grader/service/test_service_metrics.py."""

from __future__ import annotations

import json
import logging

import pytest
from jupyterhub.app import JupyterHub

from hub.setup import json_logging_config
from studio_contracts.logs import JsonFormatter, check_log_format


def test_a_record_is_one_json_object_with_its_context():
    try:
        raise ValueError("bad cell")
    except ValueError:
        import sys
        exc = sys.exc_info()
    record = logging.LogRecord("grader.worker", logging.ERROR, __file__, 1,
                               "job %s failed\nsecond line", (7,), exc)
    record.user, record.course, record.assignment = "ann", "py", "ps1"
    line = JsonFormatter().format(record)
    assert "\n" not in line  # one line, whatever the message holds
    out = json.loads(line)
    assert out["message"] == "job 7 failed\nsecond line"
    assert (out["level"], out["logger"]) == ("ERROR", "grader.worker")
    assert (out["user"], out["course"], out["assignment"]) == ("ann", "py", "ps1")
    assert out["time"].endswith("Z") and "ValueError: bad cell" in out["exc"]


def test_unknown_format_names_the_setting():
    assert check_log_format("JSON", "X") == "json" and check_log_format("", "X") == "text"
    with pytest.raises(ValueError, match="STUDIO_LOG_FORMAT='yaml' is not a log format"):
        check_log_format("yaml", "STUDIO_LOG_FORMAT")


def test_the_hub_logs_json_with_the_config_hub_setup_gives_it(capsys):
    hub = JupyterHub(logging_config=json_logging_config())
    hub.log.info("Hub API listening on %s", "http://127.0.0.1:8081/hub/")
    err = capsys.readouterr().err.strip().splitlines()
    out = json.loads(err[-1])
    assert out["message"] == "Hub API listening on http://127.0.0.1:8081/hub/"
    assert out["logger"] == "JupyterHub" and out["level"] == "INFO"
