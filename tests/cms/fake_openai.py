"""A small OpenAI-compatible HTTP server for tests: the real `openai` client talks to it.

It answers POST /v1/chat/completions. Tests set `mode` and `reply`:
- mode "ok": a normal completion whose message content is `reply` (str, or dict -> JSON);
- "error500": HTTP 500 with an OpenAI-style error body;
- "slow": waits `delay` seconds before answering (longer than the client's timeout);
- "malformed": HTTP 200 with a body that is not JSON;
- "empty": a completion with no choices.
Every request body is kept in `requests` so tests can check what was sent.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAIServer:
    def __init__(self) -> None:
        self.mode = "ok"
        self.reply: str | dict = "ok"
        self.delay = 5.0
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append({"path": self.path, "body": payload,
                                        "auth": self.headers.get("Authorization")})
                if not self.path.endswith("/chat/completions"):
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                if server.mode == "error500":
                    self._send(500, b'{"error": {"message": "upstream exploded", "type": "server_error"}}')
                    return
                if server.mode == "slow":
                    time.sleep(server.delay)
                if server.mode == "malformed":
                    self._send(200, b"{this is not json")
                    return
                content = server.reply
                if isinstance(content, dict):
                    content = json.dumps(content)
                body = {
                    "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                    "model": payload.get("model", "test-model"),
                    "choices": [] if server.mode == "empty" else [{
                        "index": 0, "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
                self._send(200, json.dumps(body).encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
