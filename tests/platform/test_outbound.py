"""The outbound guard (b24app/outbound.py): which URLs are refused before any connection, what the
operator's allowance opens, and that a guarded session connects to the address that was checked — Host,
SNI and the certificate check staying on the host name — with no second DNS lookup and no redirects."""
from __future__ import annotations

import datetime
import http.server
import ssl
import threading

import pytest
import requests
import urllib3.util.connection

from b24app.config import Settings
from b24app.outbound import OutboundGuard, OutboundRefused


class Resolver:
    """A DNS stub: name → list of answers, one per lookup (the last one repeats); counts lookups."""

    def __init__(self, answers: dict[str, list[list[str]]]):
        self.answers, self.calls = answers, []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        seq = self.answers.get(host)
        if not seq:
            raise OSError("no such host")
        return seq.pop(0) if len(seq) > 1 else seq[0]


@pytest.fixture
def connects(monkeypatch):
    """Every (address, port) urllib3 opens a socket to, in this process."""
    seen: list = []
    real = urllib3.util.connection.create_connection

    def spy(address, *a, **kw):
        seen.append(address)
        return real(address, *a, **kw)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", spy)
    return seen


@pytest.fixture
def dns_lookups(monkeypatch):
    """Host names the process asks the system resolver for."""
    import socket

    seen: list = []
    real = socket.getaddrinfo

    def spy(host, *a, **kw):
        seen.append(host)
        return real(host, *a, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    return seen


def _server(handler_fn, tls: ssl.SSLContext | None = None):
    hits: list = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append({"path": self.path, "host": self.headers.get("Host")})
            handler_fn(self)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        srv.socket = tls.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, srv.server_address[1], hits


def _ok(h):
    h.send_response(200)
    h.send_header("Content-Length", "2")
    h.end_headers()
    h.wfile.write(b"ok")


@pytest.mark.parametrize("url, why", [
    ("ftp://example.com/file", "only http"),
    ("file:///etc/passwd", "only http"),
    ("http://127.0.0.1:8080/odata", "loopback"),
    ("http://localhost:8080/odata", "loopback"),                 # a name resolving to loopback
    ("http://2130706433/", "loopback"),                          # 127.0.0.1 as one number
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://10.1.2.3/base/odata/standard.odata", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.10/", "private"),
    ("http://100.64.0.1/", "private"),                           # CGNAT
    ("http://[fd12:3456::1]/", "private"),                       # ULA
    ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata
    ("http://[fe80::1]/", "link-local"),
    ("http://224.0.0.1/", "multicast"),
    ("http://0.0.0.0:8080/", "unspecified"),
])
def test_refused_before_any_connection(url, why, connects):
    with pytest.raises(OutboundRefused, match=why):
        OutboundGuard().check(url)
    with pytest.raises(OutboundRefused, match=why):
        OutboundGuard().session().get(url, timeout=2)
    assert connects == []


def test_public_names_pass_and_every_answer_must_be_public():
    dns = Resolver({"1c.example.com": [["93.184.216.34"]], "mixed.example.com": [["93.184.216.34", "10.0.0.7"]]})
    target = OutboundGuard(resolver=dns).check("https://1C.example.com./base/odata/standard.odata/")
    assert (target.scheme, target.host, target.port, target.addresses) == \
        ("https", "1c.example.com", 443, ("93.184.216.34",))
    with pytest.raises(OutboundRefused, match="private"):             # one private answer is enough to refuse
        OutboundGuard(resolver=dns).check("http://mixed.example.com/")
    with pytest.raises(OutboundRefused, match="cannot be resolved"):
        OutboundGuard(resolver=dns).check("http://nowhere.example.com/")


def test_the_operators_allowance_by_cidr_and_by_name():
    env = {"B24APP_OUTBOUND_ALLOW": "10.0.0.0/8, 1c.local"}
    settings = Settings.from_env(env)
    assert settings.outbound_allow == "10.0.0.0/8, 1c.local"
    dns = Resolver({"1c.local": [["192.168.7.7"]], "erp.lan": [["10.20.30.40"]], "nas.lan": [["192.168.7.8"]]})
    guard = OutboundGuard.from_settings(settings, resolver=dns)
    assert guard.check("http://10.1.2.3:8080/x").address == "10.1.2.3"
    assert guard.check("http://1c.local/base").address == "192.168.7.7"       # the name is allowed, wherever it points
    assert guard.check("http://erp.lan/").address == "10.20.30.40"            # the address is in the CIDR
    for url in ("http://nas.lan/", "http://192.168.1.1/", "http://127.0.0.1/"):
        with pytest.raises(OutboundRefused):
            guard.check(url)


def test_the_connection_goes_to_the_checked_address(connects, dns_lookups):
    """DNS rebinding: the name answers 127.0.0.1 (allowed) to the check and 10.66.66.66 afterwards. The
    request connects to the checked address with the name in Host, and the name is never looked up again."""
    srv, port, hits = _server(_ok)
    try:
        dns = Resolver({"photos.example": [["127.0.0.1"], ["10.66.66.66"]]})
        session = OutboundGuard("127.0.0.1/32", resolver=dns).session()
        r = session.get(f"http://photos.example:{port}/door.png", timeout=5)
        assert r.status_code == 200 and r.text == "ok"
        assert hits == [{"path": "/door.png", "host": f"photos.example:{port}"}]
        assert connects == [("127.0.0.1", port)]
        assert dns.calls == ["photos.example"] and "photos.example" not in dns_lookups
        # the next request is checked again: the rebound answer is refused before connecting
        with pytest.raises(OutboundRefused, match="private"):
            session.get(f"http://photos.example:{port}/door.png", timeout=5)
        assert connects == [("127.0.0.1", port)] and len(hits) == 1
    finally:
        srv.shutdown()
        srv.server_close()


def test_the_next_checked_address_when_the_first_refuses_the_connection(connects):
    srv, port, hits = _server(_ok)
    try:
        dns = Resolver({"dual.example": [["::1", "127.0.0.1"]]})       # the server listens on IPv4 only
        r = OutboundGuard("127.0.0.1/32,::1/128", resolver=dns).session().get(f"http://dual.example:{port}/", timeout=5)
        assert r.status_code == 200 and [a for a, _ in connects] == ["::1", "127.0.0.1"]
    finally:
        srv.shutdown()
        srv.server_close()


def test_redirects_are_not_followed():
    inner, inner_port, inner_hits = _server(_ok)

    def redirect(h):
        h.send_response(302)
        h.send_header("Location", f"http://127.0.0.1:{inner_port}/latest/meta-data/")
        h.send_header("Content-Length", "0")
        h.end_headers()

    outer, outer_port, outer_hits = _server(redirect)
    try:
        r = OutboundGuard("127.0.0.1/32").session().get(f"http://127.0.0.1:{outer_port}/odata", timeout=5)
        assert r.status_code == 302 and len(outer_hits) == 1 and inner_hits == []
    finally:
        for s in (inner, outer):
            s.shutdown()
            s.server_close()


def _self_signed(tmp_path, name: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_tls_keeps_sni_and_the_certificate_check_on_the_host_name(tmp_path, connects):
    cert, key = _self_signed(tmp_path, "photos.example")
    sni: list = []
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.sni_callback = lambda sock, name, _ctx: sni.append(name)
    srv, port, hits = _server(_ok, tls=ctx)
    try:
        dns = Resolver({"photos.example": [["127.0.0.1"]], "other.example": [["127.0.0.1"]]})
        session = OutboundGuard("127.0.0.1/32", resolver=dns).session()
        r = session.get(f"https://photos.example:{port}/a.png", timeout=5, verify=cert)
        assert r.status_code == 200 and sni == ["photos.example"] and connects == [("127.0.0.1", port)]
        assert hits[0]["host"] == f"photos.example:{port}"
        with pytest.raises(requests.exceptions.SSLError):            # the certificate is checked against the name
            session.get(f"https://other.example:{port}/a.png", timeout=5, verify=cert)
    finally:
        srv.shutdown()
        srv.server_close()
