"""A town admin (or whoever holds one's token) points a department's webhook inside our
cloud: the metadata service, loopback, private networks, in every spelling; or at a name
that resolves public when saved and inside when delivered (DNS rebinding); or at a
receiver that redirects. None of it may produce a request to an address that is not
public."""

from __future__ import annotations

import dataclasses
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.adapters.channels import HttpWebhookPoster
from chalicelib.config import SettingsError, settings_from_env
from chalicelib.domain.addresses import Destination
from tests.functional.helpers import POTHOLE, post_request
from tests.lambda_events import sqs_event, sqs_record_of

PUBLIC = "93.184.216.34"


class FakeDns:
    """The resolver the app asks, answering as the test says. An address literal resolves
    to itself, as getaddrinfo would; any other name not in ``names`` to ``otherwise``."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}
        self.otherwise: list[str] = []
        self.asked: list[str] = []

    def resolve(self, host: str, port: int) -> list[str]:
        import ipaddress

        self.asked.append(host)
        if host in self.names:
            return list(self.names[host])
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            return list(self.otherwise)


@pytest.fixture
def dns(deployment) -> FakeDns:  # noqa: ANN001
    fake = FakeDns()
    deployment.container.resolver = fake
    return fake


def _put_department(api, staff, code: str, webhook_url: str) -> Any:  # noqa: ANN001
    response = api.http.put(f"/admin/departments/{code}", headers=staff.headers("town_admin"),
                            body=json.dumps({"name": "Streets", "webhook_url": webhook_url}))
    return response.status_code, json.loads(response.body)


def _departments(api, staff) -> dict[str, Any]:  # noqa: ANN001
    response = api.http.get("/admin/town", headers=staff.headers("town_admin"))
    return {d["code"]: d for d in json.loads(response.body)["departments"]}


def _refused(api, staff, code: str, urls: list[str]) -> list[tuple[str, int, Any]]:  # noqa: ANN001
    """Every URL of ``urls`` that was not a 400 naming webhook_url."""
    wrong = []
    for url in urls:
        status, answer = _put_department(api, staff, code, url)
        fields = [p["field"] for p in answer.get("error", {}).get("problems", [])]
        if status != 400 or fields != ["webhook_url"]:
            wrong.append((url, status, answer))
    return wrong


INSIDE_BY_ADDRESS = [
    # cloud metadata, http and https
    "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://169.254.169.254/latest/meta-data/", "https://169.254.170.2/v2/credentials",
    "https://[fd00:ec2::254]/latest/meta-data/", "https://168.63.129.16/machine",
    "https://100.100.100.200/latest/meta-data/",
    # loopback (the Lambda runtime API is on 127.0.0.1:9001)
    "https://127.0.0.1/", "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next",
    "https://127.0.0.1:9001/", "https://[::1]/", "http://localhost:9001/",
    # private, shared, link-local
    "https://10.0.0.1/", "https://172.16.0.1/", "https://172.31.255.1/",
    "https://192.168.1.1/", "https://100.64.0.1/", "https://169.254.1.1/",
    "https://[fe80::1]/", "https://[fe80::1%25eth0]/",
    # IPv6 unique local, site-local
    "https://[fc00::1]/", "https://[fd12:3456:789a::1]/", "https://[fec0::1]/",
    # multicast, unspecified, broadcast, reserved
    "https://224.0.0.1/", "https://239.255.255.250/", "https://[ff02::1]/",
    "https://0.0.0.0/", "https://[::]/", "https://255.255.255.255/", "https://240.0.0.1/",
    # IPv4 inside IPv6: mapped, compatible, NAT64, 6to4
    "https://[::ffff:127.0.0.1]/", "https://[::ffff:169.254.169.254]/",
    "https://[::ffff:a00:1]/", "https://[::127.0.0.1]/", "https://[64:ff9b::a9fe:a9fe]/",
    "https://[64:ff9b::7f00:1]/", "https://[2002:a9fe:a9fe::]/", "https://[2002:7f00:1::]/",
    # numeric spellings of 127.0.0.1 and 169.254.169.254
    "https://2130706433/", "https://0177.0.0.1/", "https://0x7f.0.0.1/", "https://127.1/",
    "https://0x7f000001/", "https://017700000001/", "https://2852039166/latest/meta-data/",
    "https://0xa9.0xfe.0xa9.0xfe/", "https://0251.0376.0251.0376/", "https://169.254.43518/",
    "https://0/", "https://127.0.0.1./",
]

INSIDE_BY_NAME = [
    "https://localhost/", "https://LOCALHOST./", "https://api.localhost/",
    "https://metadata.google.internal/computeMetadata/v1/", "https://metadata/",
    "https://instance-data/latest/meta-data/", "https://ip-10-0-0-1.ec2.internal/",
    "https://printer.local/",
]

NOT_A_SAFE_URL = [
    "http://hooks.example/in",  # plain http to the outside
    "https://admin:secret@hooks.example/in",
    "https://hooks.example@169.254.169.254/",  # userinfo that hides the real host
    "https://hooks.example\\@169.254.169.254/",
    "ftp://hooks.example/", "file:///etc/passwd",
]


def test_webhook_urls_that_reach_inside_are_refused_and_nothing_is_stored(api, staff, dns):
    # Even a resolver that answers "public" for every name cannot make these pass: they
    # are refused for what the URL itself says.
    dns.otherwise = [PUBLIC]
    urls = INSIDE_BY_ADDRESS + INSIDE_BY_NAME + NOT_A_SAFE_URL

    assert _refused(api, staff, "inside", urls) == []
    assert "inside" not in _departments(api, staff)


def test_names_that_resolve_inside_are_refused_whatever_else_they_resolve_to(
        api, staff, dns):
    dns.names = {
        "hooks.example": [PUBLIC],
        "rebind.example": [PUBLIC, "169.254.169.254"],  # every address counts, not the first
        "intranet.example": ["10.20.30.40"],
        "v6.example": ["2606:4700::1111", "fd00:ec2::254"],
        "mapped.example": ["::ffff:127.0.0.1"],
        "nat64.example": ["64:ff9b::a9fe:a9fe"],
        "loop.example": ["127.0.0.1"],
        "nowhere.example": [],  # does not resolve: nothing could be checked
    }

    wrong = _refused(api, staff, "inside", [
        "https://rebind.example/", "https://intranet.example/", "https://v6.example/",
        "https://mapped.example/", "https://nat64.example/", "https://loop.example/",
        "https://nowhere.example/"])

    assert wrong == []
    assert "inside" not in _departments(api, staff)
    status, answer = _put_department(api, staff, "inside", "https://intranet.example/")
    # The admin learns the name is private, not the address behind it.
    assert answer["error"]["problems"][0]["message"] == \
        "intranet.example resolves to a private address"
    assert "10.20.30.40" not in json.dumps(answer)


def test_a_refused_change_leaves_the_department_as_it_was(api, staff, dns):
    dns.names = {"hooks.example": [PUBLIC], "rebind.example": ["169.254.169.254"]}
    status, saved = _put_department(api, staff, "streets", "https://hooks.example/in")
    assert status == 200 and saved["webhook_url"] == "https://hooks.example/in"

    assert _refused(api, staff, "streets", ["https://rebind.example/",
                                            "https://169.254.169.254/"]) == []

    assert _departments(api, staff)["streets"]["webhook_url"] == "https://hooks.example/in"


def test_a_public_https_webhook_is_accepted(api, staff, dns):
    dns.names = {"hooks.example": [PUBLIC, "2606:4700::1111"]}

    status, saved = _put_department(api, staff, "streets", "https://hooks.example/in")

    assert status == 200 and "webhook_secret" in saved
    assert "hooks.example" in dns.asked


def test_loopback_is_refused_unless_the_local_run_allows_it(api, staff, dns, deployment):
    assert deployment.container.settings.allow_loopback_webhooks is False
    assert _refused(api, staff, "local", ["http://127.0.0.1:8080/hook",
                                          "http://localhost:8080/hook"]) == []

    deployment.container.settings = dataclasses.replace(
        deployment.container.settings, allow_loopback_webhooks=True)
    dns.names = {"localhost": ["127.0.0.1"]}

    assert _put_department(api, staff, "local", "http://127.0.0.1:8080/hook")[0] == 200
    assert _put_department(api, staff, "local", "http://localhost:8080/hook")[0] == 200
    # Loopback, and nothing else inside.
    assert _refused(api, staff, "local", ["https://10.0.0.1/", "https://169.254.169.254/",
                                          "http://[fd00:ec2::254]/"]) == []


def test_the_loopback_setting_cannot_be_turned_on_in_lambda():
    local = {"TOWN311_TABLE": "town311", "TOWN311_IDEMPOTENCY_TABLE": "idem",
             "TOWN311_PHOTO_BUCKET": "photos", "TOWN311_ROUTING_QUEUE_URL": "https://q/r",
             "TOWN311_WEBHOOK_QUEUE_URL": "https://q/w", "TOWN311_NOTICE_QUEUE_URL": "https://q/n",
             "TOWN311_QUEUE_PREFIX": "town311-local"}

    assert settings_from_env(local).allow_loopback_webhooks is False
    assert settings_from_env(local | {"TOWN311_ALLOW_LOOPBACK_WEBHOOKS": "1"}
                             ).allow_loopback_webhooks is True
    with pytest.raises(SettingsError, match="TOWN311_ALLOW_LOOPBACK_WEBHOOKS"):
        settings_from_env(local | {"TOWN311_ALLOW_LOOPBACK_WEBHOOKS": "1",
                                   "AWS_LAMBDA_FUNCTION_NAME": "town311-prod-DeliverWebhooks"})


# --- at delivery ------------------------------------------------------------------------------


def _receive(deployment, queue_url: str) -> list[dict[str, Any]]:  # noqa: ANN001
    return deployment.client("sqs").receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"],
        VisibilityTimeout=600).get("Messages", [])


def _lambda_event(messages: list[dict[str, Any]], queue: str) -> dict[str, Any]:
    return sqs_event(*(sqs_record_of(m, queue=queue) for m in messages))


def _queue_a_webhook_delivery(api, staff, deployment) -> dict[str, Any]:  # noqa: ANN001
    """Public works gets a webhook; a pothole is filed and routed; the webhook message."""
    assert _put_department(api, staff, "public_works", "https://hooks.example/in")[0] == 200
    deployment.container.towns._towns._entries.clear()  # the router's catalogue cache
    deployment.container.towns._catalogues._entries.clear()
    assert post_request(api, POTHOLE).status_code in (200, 201)
    routing_url = deployment.environment["TOWN311_ROUTING_QUEUE_URL"]
    with Client(app) as lambdas:
        assert lambdas.lambda_.invoke("route_new_requests", _lambda_event(
            _receive(deployment, routing_url), "routing")).payload == {"batchItemFailures": []}
    (message,) = _receive(deployment, deployment.environment["TOWN311_WEBHOOK_QUEUE_URL"])
    return message


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every outgoing TCP connection the app tries (none is made)."""
    tried: list[Any] = []

    def refuse(address: Any, *args: Any, **kwargs: Any) -> None:
        tried.append(address)
        raise ConnectionRefusedError("no connections from this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    return tried


def test_a_name_that_rebinds_inside_after_the_save_gets_no_request(
        api, staff, deployment, dns, connections, caplog):
    dns.names = {"hooks.example": [PUBLIC]}  # public when the admin saves it
    message = _queue_a_webhook_delivery(api, staff, deployment)
    dns.names = {"hooks.example": ["169.254.169.254"]}  # and the metadata service now
    hidden: list[Any] = []
    deployment.container.client("sqs").meta.events.register(
        "provide-client-params.sqs.ChangeMessageVisibility",
        lambda params, **_: hidden.append(params))

    with caplog.at_level("ERROR"), Client(app) as lambdas:
        result = lambdas.lambda_.invoke("deliver_webhooks",
                                        _lambda_event([message], "webhooks")).payload

    assert connections == []  # no request, to any address
    # Dropped, not retried: the next try would be refused the same way.
    assert result == {"batchItemFailures": []} and hidden == []
    assert any(r.getMessage() == "webhook destination refused; dropped, not retried"
               for r in caplog.records)


def test_a_name_that_rebinds_to_public_and_inside_gets_no_request(
        api, staff, deployment, dns, connections):
    dns.names = {"hooks.example": [PUBLIC]}
    message = _queue_a_webhook_delivery(api, staff, deployment)
    dns.names = {"hooks.example": [PUBLIC, "127.0.0.1"]}

    with Client(app) as lambdas:
        lambdas.lambda_.invoke("deliver_webhooks", _lambda_event([message], "webhooks"))

    assert connections == []


def test_the_delivery_connects_to_the_address_it_checked(
        api, staff, deployment, dns, connections):
    dns.names = {"hooks.example": [PUBLIC]}
    message = _queue_a_webhook_delivery(api, staff, deployment)

    with Client(app) as lambdas:
        result = lambdas.lambda_.invoke("deliver_webhooks",
                                        _lambda_event([message], "webhooks")).payload

    # The spy refused it, so the delivery failed and will be retried; it went only to
    # the address that was checked, never to a second lookup of the name.
    assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    assert connections == [(PUBLIC, 443)]


# --- the poster: pinned addresses, TLS for the name, no redirects ----------------------------


class Receiver:
    """An HTTP(S) server on 127.0.0.1 that records requests and answers ``status``."""

    def __init__(self, status: int = 200, location: str | None = None,
                 tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.server_names: list[str | None] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                receiver.requests.append({"path": self.path, "host": self.headers["Host"],
                                          "body": self.rfile.read(length)})
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            tls.sni_callback = lambda sock, name, context: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for r in started:
        r.close()


def test_the_poster_connects_to_the_checked_address_and_sends_the_name_as_host(receivers):
    receiver = Receiver()
    receivers.append(receiver)
    # hooks.example does not resolve anywhere: the request can only have gone to the
    # pinned address.
    destination = Destination("http", "hooks.example", receiver.port, "/in?x=1",
                              ("127.0.0.1",))

    assert HttpWebhookPoster().post(destination, b"{}", {"X-Test": "1"}) == 200

    (request,) = receiver.requests
    assert request["host"] == f"hooks.example:{receiver.port}"
    assert request["path"] == "/in?x=1"


def test_a_redirect_is_not_followed_even_to_a_checked_looking_place(receivers):
    inside = Receiver()
    redirector = Receiver(302, location=f"http://127.0.0.1:{inside.port}/latest/meta-data/")
    receivers.extend([inside, redirector])
    destination = Destination("http", "127.0.0.1", redirector.port, "/in", ("127.0.0.1",))

    assert HttpWebhookPoster().post(destination, b"{}", {}) == 302

    assert len(redirector.requests) == 1
    assert inside.requests == []


def _certificate_for(name: str) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=5))
                   .not_valid_after(now + timedelta(hours=1))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                  critical=True)
                   .sign(key, hashes.SHA256()))
    return (certificate.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM,
                              serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def test_tls_is_checked_for_the_name_while_connecting_to_the_pinned_address(
        receivers, tmp_path):
    certificate, key = _certificate_for("hooks.example")
    (tmp_path / "cert.pem").write_bytes(certificate)
    (tmp_path / "key.pem").write_bytes(key)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    receiver = Receiver(tls=server_tls)
    receivers.append(receiver)
    trusting = ssl.create_default_context(cadata=certificate.decode())
    poster = HttpWebhookPoster(tls=trusting)

    named = Destination("https", "hooks.example", receiver.port, "/in", ("127.0.0.1",))
    assert poster.post(named, b"{}", {}) == 200
    assert receiver.server_names == ["hooks.example"]  # SNI carries the name
    assert receiver.requests[0]["host"] == f"hooks.example:{receiver.port}"

    # Another name pinned to the same address fails the certificate check: no request.
    other = Destination("https", "other.example", receiver.port, "/in", ("127.0.0.1",))
    assert poster.post(other, b"{}", {}) is None
    assert len(receiver.requests) == 1


def test_no_deployed_stage_allows_loopback_webhooks():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for deployed in ("infra/template.yaml", ".chalice/config.json"):
        assert "TOWN311_ALLOW_LOOPBACK_WEBHOOKS" not in (root / deployed).read_text()
