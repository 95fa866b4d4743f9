"""A small OpenAI-compatible HTTP server for tests: the real `openai` client talks to it.

It answers POST /v1/chat/completions. Tests set `mode` and `reply`:
- mode "ok": a normal completion whose message content is `reply` (str, or dict -> JSON);
- "error500": HTTP 500 with an OpenAI-style error body;
- "slow": waits `delay` seconds before answering (longer than the client's timeout);
- "malformed": HTTP 200 with a body that is not JSON;
- "empty": a completion with no choices.
Every request body is kept in `requests` so tests can check what was sent.

Streaming (`"stream": true`, as the grader's tutor asks): the reply is sent as Server-Sent
Events of `chat.completion.chunk` objects, one word (with its following space) a chunk,
`chunk_delay` seconds apart, then a usage chunk (no choices) if
`stream_options.include_usage` was set, then `data: [DONE]`.

`replies` scripts a sequence: each request takes the next one (first reply leaks the
solution, the second does not, ...); when the list is empty, `reply` is used again.
`reply_for(request_body)`, when set, picks the reply instead (a callable).
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAIServer:
    def __init__(self) -> None:
        self.mode = "ok"
        self.reply: str | dict = "ok"
        self.delay = 5.0
        self.requests: list[dict] = []
        self.replies: list[str | dict] = []
        self.reply_for = None
        self.chunk_delay = 0.0
        self._lock = threading.Lock()
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
                content = server.next_reply(payload)
                if isinstance(content, dict):
                    content = json.dumps(content)
                if payload.get("stream"):
                    self._stream(payload, content)
                    return
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

            def _stream(self, payload: dict, content: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                base = {"id": "chatcmpl-test", "object": "chat.completion.chunk",
                        "created": int(time.time()), "model": payload.get("model", "test-model")}
                pieces = [] if server.mode == "empty" else re.findall(r"\S+\s*|\s+", content)
                try:
                    self._event({**base, "choices": [{"index": 0, "finish_reason": None,
                                                       "delta": {"role": "assistant", "content": ""}}]})
                    for piece in pieces:
                        if server.chunk_delay:
                            time.sleep(server.chunk_delay)
                        self._event({**base, "choices": [{"index": 0, "finish_reason": None,
                                                           "delta": {"content": piece}}]})
                    self._event({**base, "choices": [{"index": 0, "finish_reason": "stop",
                                                       "delta": {}}]})
                    if (payload.get("stream_options") or {}).get("include_usage"):
                        prompt = sum(len(str(m.get("content") or ""))
                                     for m in payload.get("messages", []))
                        self._event({**base, "choices": [], "usage": {
                            "prompt_tokens": prompt // 4 + 1, "completion_tokens": len(pieces),
                            "total_tokens": prompt // 4 + 1 + len(pieces)}})
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away mid-stream

            def _event(self, data: dict) -> None:
                self.wfile.write(b"data: " + json.dumps(data).encode() + b"\n\n")
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def next_reply(self, payload: dict) -> str | dict:
        if self.reply_for is not None:
            return self.reply_for(payload)
        with self._lock:
            if self.replies:
                return self.replies.pop(0)
        return self.reply

    def __enter__(self) -> FakeOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
