"""Benchmark of the AI tutor: time to the first token and to the full answer, through the
hub's proxy and the grader (prompt from the stored release, leak check, SSE), beside the
same local OpenAI-compatible server asked directly with the openai client, and as
JupyterLab asks it: through the learner's server (our server extension) to the grader.

    python tests/benchmarks/bench_tutor.py [--requests 10] [--chunk-delay 0.02]

The model is the local test server (tests/cms/fake_openai.py) answering with a fixed
reply, one word a chunk, --chunk-delay seconds apart: the figures are the stack's, not a
model's. Prints, per path, p50 and max of: first delta (the first line the learner sees:
the gate lets prose out line by line), full answer, and the same for an answer that leaks
and is written again. Needs configurable-http-proxy (no Docker). Everything it starts is
stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
# the test helpers are this benchmark's too
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "grader" / "service"))

from fake_ai import FakeOpenAIServer  # noqa: E402
from service_support import start_hub, stop_hub  # noqa: E402
from tutor_support import SOLUTION_LINE, ask, body, release  # noqa: E402

REPLY = (
    "Your list starts one number too early.\n"
    "Look at what the failing test expects for `squares(3)`: which is the first square?\n"
    "Now print `list(range(3))` in a new cell and compare.\n"
    "Which argument of `range` decides where it starts, and which where it stops?\n"
    "Once you know, change only that part and run the test again.\n"
)
LEAK = f"Here:\n```python\ndef squares(n):\n    {SOLUTION_LINE}\n```\n"
CONFIG = """
c.GraderSettings.worker_count = 0
c.GraderSettings.check_releases = False
c.GraderSettings.tutor_rate_per_minute = 0
c.GraderSettings.tutor_daily_limit = 0
c.GraderSettings.tutor_course_daily_tokens = 0
c.GraderSettings.tutor_course_monthly_cost = 0
"""


def summary(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"{name:<44} p50 {statistics.median(ms):7.1f} ms   max {max(ms):7.1f} ms"


async def direct(server: FakeOpenAIServer, n: int
                 ) -> tuple[list[float], list[float], list[float]]:
    """The endpoint alone, through the same openai client the grader uses."""
    from grader.service.ai import AIEndpoint
    from grader.service.config import GraderSettings

    ai = AIEndpoint(GraderSettings(openai_base_url=server.base_url, openai_api_key="",
                                   ai_timeout=30))
    first, line, full = [], [], []
    for _ in range(n):
        server.reply = REPLY
        t0 = time.perf_counter()
        got_first = got_line = None
        async for piece in ai.stream([{"role": "user", "content": "hi"}]):
            if got_first is None:
                got_first = time.perf_counter() - t0
            if got_line is None and "\n" in piece:
                got_line = time.perf_counter() - t0
        first.append(got_first)
        line.append(got_line)
        full.append(time.perf_counter() - t0)
    return first, line, full


def through_stack(hub, client, server: FakeOpenAIServer, n: int, reply_sequence: list[str],
                  url: str | None = None) -> tuple[list[float], list[float]]:
    url = url or f"{hub.grader}/courses/bench/assignments/ps1/tutor"
    first, full = [], []
    for _ in range(n):
        server.replies = list(reply_sequence)
        answer = ask(client, url, body())
        assert answer.status == 200, answer.json
        last_reset = max((i for i, e in enumerate(answer.events) if e[0] == "reset"),
                         default=-1)
        deltas = [t for name, _, t in answer.events[last_reset + 1:] if name == "delta"]
        done = [t for name, _, t in answer.events if name == "done"]
        assert answer.text() == REPLY, answer.events
        first.append(deltas[0])
        full.append(done[0])
    return first, full


def learner_server(hub, token: str, root: Path):
    """A jupyter-server with our extension, as in a learner's container: the browser's
    requests go to it, and it calls the grader with the learner's hub token."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    own = secrets.token_hex(16)
    (root / "lab").mkdir(exist_ok=True)
    config = root / "learner_server_config.json"
    config.write_text(json.dumps({
        "ServerApp": {"jpserver_extensions": {"learning_studio_lab": True}, "token": own,
                      "root_dir": str(root / "lab"), "allow_root": True},
        "GraderClient": {"grader_url": f"{hub.url}/services/grader/", "api_token": token},
    }))
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}",
         "--ip=127.0.0.1", f"--config={config}"],
        # the extension from this checkout, as the tests load it
        env={**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(HERE.parents[1] / "extensions" / "learning_studio_lab"),
             os.environ.get("PYTHONPATH", "")])},
        stdout=subprocess.DEVNULL, stderr=open(root / "learner-server.log", "wb"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{base}/api/status", params={"token": own}, timeout=2).ok:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit("the learner's server did not start: "
                             + (root / "learner-server.log").read_text()[-2000:])
        time.sleep(0.3)
    session = requests.Session()
    session.headers["Authorization"] = f"token {own}"
    return proc, session, f"{base}/learning-studio/courses/bench/assignments/ps1/tutor"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--chunk-delay", type=float, default=0.02)
    args = parser.parse_args()
    words = len(REPLY.split())
    print(f"tutor benchmark: {args.requests} requests per path, reply of {words} words "
          f"({len(REPLY.splitlines())} lines), {args.chunk_delay * 1000:.0f} ms per chunk "
          f"(model floor: ~{words * args.chunk_delay * 1000:.0f} ms)")
    with FakeOpenAIServer() as server:
        server.chunk_delay = args.chunk_delay
        server.reply = REPLY
        first, line, full = asyncio.run(direct(server, args.requests))
        print(summary("endpoint directly: first token", first))
        print(summary("endpoint directly: first whole line", line))
        print(summary("endpoint directly: full answer", full))
        root = Path(tempfile.mkdtemp(prefix="bench-tutor-"))
        proc, hub = start_hub(root, CONFIG, {"OPENAI_BASE_URL": server.base_url})
        try:
            hub.user("prof", groups=("instructors", "instructors:bench"))
            hub.user("ann", groups=("learners:bench",))
            release(hub, hub.client(hub.token("prof")), "bench")
            ann = hub.client(hub.token("ann"))
            through_stack(hub, ann, server, 1, [REPLY])  # warm-up
            first, full = through_stack(hub, ann, server, args.requests, [REPLY])
            print(summary("hub proxy + grader: first delta", first))
            print(summary("hub proxy + grader: full answer", full))
            first, full = through_stack(hub, ann, server, args.requests, [LEAK, REPLY])
            print(summary("leak, reset, regenerated: first kept delta", first))
            print(summary("leak, reset, regenerated: full answer", full))
            # as JupyterLab asks: browser -> the learner's server -> grader
            lab, session, url = learner_server(hub, hub.token("ann"), root)
            try:
                through_stack(hub, session, server, 1, [REPLY], url)  # warm-up
                first, full = through_stack(hub, session, server, args.requests, [REPLY], url)
                print(summary("learner's server + grader: first delta", first))
                print(summary("learner's server + grader: full answer", full))
            finally:
                lab.terminate()
                lab.wait(timeout=30)
        finally:
            stop_hub(proc)


if __name__ == "__main__":
    main()
