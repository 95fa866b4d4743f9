"""Benchmark: the Learning Studio site against a stock `wagtail start` site, same run.

Both run under gunicorn with 2 sync workers on SQLite, on loopback. Load: 10 connections
for a bounded time per page (wrk from Debian if installed, else a small asyncio client).
Prints requests/s and p99 per page and the ratio to the stock site's home page: for
anonymous visitors (our shared page cache), and for signed-in visitors, compared like with
like (a signed-in learner's pages against the stock home page for a signed-in user; each
holds its session cookie, ours its CSRF cookie too, as a browser does).

    python tests/benchmarks/bench_cms.py [--seconds 5] [--connections 10]

Needs: the cms requirements (wagtail, gunicorn) in the running Python; optionally `wrk`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CMS_DIR = ROOT / "cms"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(cmd: list[str], cwd: Path, env: dict) -> None:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not come up within {timeout}s")


def gunicorn(module: str, cwd: Path, env: dict, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "gunicorn"), module, "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning"],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def load_wrk(url: str, seconds: int, connections: int, cookie: str = "") -> tuple[float, float]:
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s",
         *headers, url],
        capture_output=True, text=True, timeout=seconds + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = _ms(re.search(r"99%\s+([\d.]+(?:us|ms|s))", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses under load")
    return rps, p99


async def _client(host: str, port: int, path: str, stop_at: float, latencies: list[float],
                  cookie: str = ""):
    """One connection's worth of requests, one after another; reconnects when the server
    closes the connection after a response (gunicorn's sync workers do: no keep-alive)."""
    cookie_line = f"Cookie: {cookie}\r\n" if cookie else ""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{cookie_line}\r\n".encode()
    reader = writer = None
    while time.monotonic() < stop_at:
        start = time.perf_counter()
        if writer is None:
            reader, writer = await asyncio.open_connection(host, port)
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"{path}: {head.splitlines()[0].decode()} under load")
        length = re.search(rb"(?i)content-length:\s*(\d+)", head)
        closes = re.search(rb"(?i)^connection:\s*close", head, re.M)
        if length:
            await reader.readexactly(int(length.group(1)))
        elif closes:
            await reader.read()  # the body ends when the server closes the connection
        else:
            raise SystemExit(f"{path}: a response with neither length nor close")
        latencies.append((time.perf_counter() - start) * 1000)
        if closes:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


def load_asyncio(url: str, seconds: int, connections: int, cookie: str = "") -> tuple[float, float]:
    match = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    host, port, path = match.group(1), int(match.group(2)), match.group(3)
    latencies: list[float] = []
    stop_at = time.monotonic() + seconds

    async def main() -> None:
        await asyncio.gather(*[_client(host, port, path, stop_at, latencies, cookie)
                               for _ in range(connections)])

    started = time.monotonic()
    asyncio.run(main())
    elapsed = time.monotonic() - started
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99) - 1]


def measure(url: str, seconds: int, connections: int, cookie: str = "") -> tuple[float, float]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    for _ in range(20):  # warm up workers and caches
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()
    if shutil.which("wrk"):
        return load_wrk(url, seconds, connections, cookie)
    return load_asyncio(url, seconds, connections, cookie)


SESSION_SCRIPT = """
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from importlib import import_module
User = get_user_model()
user = User.objects.filter(username={name!r}).first()
if user is None:
    user = User.objects.create_user({name!r}, password='bench-password-1')
store = import_module(settings.SESSION_ENGINE).SessionStore()
store[SESSION_KEY] = str(user.pk)
store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0] if hasattr(settings, 'AUTHENTICATION_BACKENDS') and settings.AUTHENTICATION_BACKENDS else 'django.contrib.auth.backends.ModelBackend'
store[HASH_SESSION_KEY] = user.get_session_auth_hash()
store.create()
print('SESSION', settings.SESSION_COOKIE_NAME, store.session_key, settings.CSRF_COOKIE_NAME)
"""


def signed_in_cookie(cwd: Path, env: dict, username: str, url: str, shows_name: bool = True) -> str:
    """A signed-in session for username, made as Django's login makes one, plus the CSRF
    cookie the site sets on the first page with a form: the cookies a browser would hold."""
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c",
                          SESSION_SCRIPT.format(name=username)], cwd=cwd, env=env,
                         capture_output=True, text=True, check=True).stdout
    _, session_name, key, csrf_name = next(
        line for line in out.splitlines() if line.startswith("SESSION ")).split()
    cookie = f"{session_name}={key}"
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read().decode(errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if name == csrf_name:
                cookie += f"; {csrf_name}={rest.split(';', 1)[0]}"
    if shows_name and username not in body:  # (stock's home page names nobody)
        raise SystemExit(f"{url}: the signed-in page does not name {username}")
    return cookie


SIGNED_IN_PAGES = [
    ("catalogue /courses/", "/courses/"), ("course /courses/intro-python/", "/courses/intro-python/"),
    ("blog /blog/", "/blog/"), ("post /blog/post-1/", "/blog/post-1/"),
    ("progress /progress/", "/progress/"), ("community /community/", "/community/"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=10)
    args = parser.parse_args()
    seconds = min(args.seconds, 30)  # bounded load, always
    tool = "wrk" if shutil.which("wrk") else "asyncio client"

    with tempfile.TemporaryDirectory(prefix="ls-bench-") as tmp:
        tmp_path = Path(tmp)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("LS_", "DJANGO_"))}
        # Stock site, exactly as `wagtail start` makes it.
        stock_dir = tmp_path / "stock"
        stock_dir.mkdir()
        stock_env = {**base_env, "DJANGO_SETTINGS_MODULE": "stocksite.settings.production",
                     "PYTHONPATH": str(stock_dir)}
        run([str(BIN / "wagtail"), "start", "stocksite", str(stock_dir)], tmp_path, base_env)
        prod = stock_dir / "stocksite" / "settings" / "production.py"
        prod.write_text(prod.read_text() + "\nALLOWED_HOSTS = ['127.0.0.1']\n"
                        "SECRET_KEY = 'bench-only'\n")
        run([sys.executable, "manage.py", "migrate", "--noinput"], stock_dir, stock_env)
        run([sys.executable, "manage.py", "collectstatic", "--noinput"], stock_dir, stock_env)

        # Our site, on its embedded defaults plus a throw-away data dir.
        data = tmp_path / "cms-data"
        cms_env = {**base_env, "DJANGO_SETTINGS_MODULE": "studio_site.settings.production",
                   "LS_CMS_DATA_DIR": str(data), "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
                   "PYTHONPATH": str(CMS_DIR)}
        for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"],
                        ["seed_demo", "--password", "bench-password-1"]):
            run([sys.executable, "manage.py", *command], CMS_DIR, cms_env)
        # seed_demo's site is "localhost:80"; Wagtail serves the default site for any host.

        stock_port, cms_port, nocache_port = free_port(), free_port(), free_port()
        # The same site with the page cache off: what a signed-in visitor's page costs.
        nocache_env = {**cms_env, "LS_PAGE_CACHE_ENABLED": "0"}
        servers = [gunicorn("stocksite.wsgi", stock_dir, stock_env, stock_port),
                   gunicorn("studio_site.wsgi", CMS_DIR, cms_env, cms_port),
                   gunicorn("studio_site.wsgi", CMS_DIR, nocache_env, nocache_port)]
        try:
            wait_ready(f"http://127.0.0.1:{stock_port}/")
            wait_ready(f"http://127.0.0.1:{cms_port}/healthz")
            wait_ready(f"http://127.0.0.1:{nocache_port}/healthz")
            print(f"load: {tool}, {args.connections} connections, {seconds}s per page, "
                  "gunicorn 2 workers, SQLite")
            stock_rps, stock_p99 = measure(f"http://127.0.0.1:{stock_port}/", seconds,
                                           args.connections)
            print(f"{'page':32} {'req/s':>9} {'p99 ms':>8} {'x stock':>8}")
            print(f"{'stock wagtail start: /':32} {stock_rps:9.0f} {stock_p99:8.1f} {1:8.2f}")
            for label, path in [("home /", "/"), ("catalogue /courses/", "/courses/"),
                                ("course /courses/intro-python/", "/courses/intro-python/"),
                                ("blog /blog/", "/blog/"), ("blog post /blog/post-1/",
                                                            "/blog/post-1/")]:
                rps, p99 = measure(f"http://127.0.0.1:{cms_port}{path}", seconds,
                                   args.connections)
                print(f"{label:32} {rps:9.0f} {p99:8.1f} {rps / stock_rps:8.2f}")
            # Signed in, like with like: stock's home page for a signed-in user ...
            stock_cookie = signed_in_cookie(stock_dir, stock_env, "benchuser",
                                            f"http://127.0.0.1:{stock_port}/", shows_name=False)
            s_rps, s_p99 = measure(f"http://127.0.0.1:{stock_port}/", seconds,
                                   args.connections, stock_cookie)
            print("signed in (a learner, session and CSRF cookies), ratio to stock signed in:")
            print(f"{'stock wagtail start: / signed in':32} {s_rps:9.0f} {s_p99:8.1f} {1:8.2f}")
            # ... against a signed-in learner's pages, with and without the session's cache
            for label, port, env in (("", cms_port, cms_env),
                                     ("no page cache: ", nocache_port, nocache_env)):
                cookie = signed_in_cookie(CMS_DIR, env, "alan",
                                          f"http://127.0.0.1:{port}/courses/")
                for name, path in SIGNED_IN_PAGES:
                    rps, p99 = measure(f"http://127.0.0.1:{port}{path}", seconds,
                                       args.connections, cookie)
                    print(f"{'  ' + label + name:32} {rps:9.0f} {p99:8.1f} {rps / s_rps:8.2f}")
        finally:
            for server in servers:
                stop(server)


if __name__ == "__main__":
    main()
