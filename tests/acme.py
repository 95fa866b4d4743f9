"""Let's Encrypt's test CA on this machine, for the HTTPS tests: Debian's `pebble`, and a
made-up domain that resolves to loopback.

Pebble validates a challenge by connecting to the name being certified, so the domain
(``studio.test`` and every ``*.studio.test``) must resolve for it: a tiny DNS server here
answers A 127.0.0.1 for them, and pebble is given it with ``-dnsserver``. Its validation
ports are the TLS front's test ports. Python clients in the tests resolve the domain the
same way (``resolve_to_loopback``); Chromium with ``--host-resolver-rules``.
"""

from __future__ import annotations

import json
import shutil
import socket
import socketserver
import struct
import subprocess
import threading
from pathlib import Path

import requests
from stack import free_port, wait_for
from tooling import start_process, stop_process

_resolved: set[str] = set()
_real_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and any(host == d or host.endswith(f".{d}") for d in _resolved):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kwargs)


def resolve_to_loopback(domain: str) -> None:
    """This process resolves `domain` and its subdomains to 127.0.0.1 (as the test DNS
    server does for pebble)."""
    _resolved.add(domain)
    socket.getaddrinfo = _getaddrinfo


def _names(domain: str):
    def under(name: str) -> bool:
        return name == domain or name.endswith(f".{domain}")
    return under


class LoopbackDNS(socketserver.ThreadingUDPServer):
    """Answers A 127.0.0.1 for a domain and its subdomains; NXDOMAIN for anything else."""

    daemon_threads = True

    def __init__(self, domain: str):
        self.under = _names(domain.lower())
        super().__init__(("127.0.0.1", free_port_udp()), _DNSAnswer)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _DNSAnswer(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        if len(data) < 12:
            return
        ident, _flags, qdcount = struct.unpack("!HHH", data[:6])
        labels, i = [], 12
        while i < len(data) and data[i]:
            labels.append(data[i + 1:i + 1 + data[i]].decode(errors="replace"))
            i += 1 + data[i]
        qtype, _qclass = struct.unpack("!HH", data[i + 1:i + 5])
        question = data[12:i + 5]
        name = ".".join(labels).lower()
        known = self.server.under(name)
        answers = b""
        if known and qtype == 1:  # A
            answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
        flags = 0x8400 | (0 if known else 3)  # response, authoritative; NXDOMAIN if not ours
        header = struct.pack("!HHHHHH", ident, flags, 1, 1 if answers else 0, 0, 0)
        sock.sendto(header + question + answers, self.client_address)


def free_port_udp() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Pebble:
    """A running pebble with its own TLS certificate (for its ACME endpoint) and a DNS
    server for `domain`. `directory` is the ACME directory URL, `server_root` the file
    that verifies pebble's endpoint (STUDIO_ACME_CA_ROOT), `issuing_root()` the root of
    the certificates it issues (random per run) as a file."""

    def __init__(self, workdir: Path, domain: str, http_port: int, tls_port: int):
        if not shutil.which("pebble") or not shutil.which("openssl"):
            raise RuntimeError("pebble and openssl are needed (Debian: apt-get install pebble "
                               "openssl; ./studio test installs them)")
        self.workdir, self.domain = workdir, domain
        workdir.mkdir(parents=True, exist_ok=True)
        self.dns = LoopbackDNS(domain)
        self.acme_port, self.management_port = free_port(), free_port()
        self.server_root = workdir / "pebble-server.pem"
        key = workdir / "pebble-server.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(key), "-out", str(self.server_root)],
            check=True, capture_output=True)
        config = workdir / "pebble-config.json"
        config.write_text(json.dumps({"pebble": {
            "listenAddress": f"127.0.0.1:{self.acme_port}",
            "managementListenAddress": f"127.0.0.1:{self.management_port}",
            "certificate": str(self.server_root), "privateKey": str(key),
            "httpPort": http_port, "tlsPort": tls_port,
            "ocspResponderURL": "", "externalAccountBindingRequired": False,
        }}))
        self.log = workdir / "pebble.log"
        self.process = start_process(
            ["pebble", "-config", str(config), "-dnsserver", f"127.0.0.1:{self.dns.port}"],
            env={"PATH": "/usr/bin:/bin", "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"},
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        wait_for(lambda: self._answers(), 30, "pebble's ACME directory", interval=0.2)

    @property
    def directory(self) -> str:
        return f"https://127.0.0.1:{self.acme_port}/dir"

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"pebble exited: {self.log.read_text()[-2000:]}")
        try:
            return requests.get(self.directory, verify=str(self.server_root), timeout=2).ok
        except requests.RequestException:
            return False

    def issuing_root(self) -> Path:
        path = self.workdir / f"pebble-issuing-root-{self.acme_port}.pem"
        if not path.exists():  # this run's: pebble makes a new root at each start
            r = requests.get(f"https://127.0.0.1:{self.management_port}/roots/0",
                             verify=str(self.server_root), timeout=10)
            r.raise_for_status()
            path.write_text(r.text)
        return path

    def close(self) -> None:
        stop_process(self.process, timeout=10)
        self.dns.shutdown()
        self.dns.server_close()
