"""Which webhook destinations are public: the pure check, and the system resolver's reading
of numeric host spellings (no DNS: getaddrinfo answers those itself)."""

from __future__ import annotations

import pytest

from chalicelib.adapters.channels import SystemResolver
from chalicelib.domain.addresses import (
    Destination,
    UnresolvedHost,
    UnsafeDestination,
    address_refusal,
    check_webhook_destination,
    inet_aton,
    webhook_host,
)

PUBLIC = "93.184.216.34"


@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("172.31.255.254", "private"),
    ("192.168.1.1", "private"), ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("169.254.1.1", "link-local"), ("fe80::1", "link-local"), ("fe80::1%eth0", "link-local"),
    ("224.0.0.1", "multicast"), ("239.255.255.250", "multicast"), ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("255.255.255.255", "broadcast"), ("240.0.0.1", "reserved"),
    ("fc00::1", "unique local"), ("fd12:3456::1", "unique local"), ("fec0::1", "site-local"),
    ("169.254.169.254", "metadata"), ("169.254.170.2", "metadata"),
    ("fd00:ec2::254", "metadata"), ("168.63.129.16", "metadata"),
    ("100.100.100.200", "metadata"),
    # IPv6 forms of IPv4 addresses are judged by the IPv4 address inside.
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "metadata"),
    ("::ffff:10.0.0.1", "private"), ("64:ff9b::a9fe:a9fe", "metadata"),
    ("64:ff9b::7f00:1", "loopback"), ("2002:7f00:1::", "loopback"),
    ("2002:a00:1::", "private"), ("::127.0.0.1", "IPv4-compatible"),
    ("::8.8.8.8", "IPv4-compatible"), ("64:ff9b:1::808:808", "NAT64"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ("192.0.2.1", "private"), ("198.18.0.1", "private"), ("2001:db8::1", "private"),
    ("not-an-address", "not an address"),
])
def test_addresses_that_are_not_public_are_refused_with_their_kind(address, reason):
    assert reason in (address_refusal(address) or "")


@pytest.mark.parametrize("address", [
    PUBLIC, "8.8.8.8", "1.1.1.1", "2606:4700::1111", "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::"])
def test_public_addresses_are_accepted(address):
    assert address_refusal(address) is None


def test_loopback_is_accepted_only_when_allowed_and_nothing_else_is():
    assert address_refusal("127.0.0.1", allow_loopback=True) is None
    assert address_refusal("::1", allow_loopback=True) is None
    assert address_refusal("::ffff:127.0.0.1", allow_loopback=True) is None
    for other in ("10.0.0.1", "169.254.169.254", "0.0.0.0", "fd00:ec2::254"):
        assert address_refusal(other, allow_loopback=True) is not None


@pytest.mark.parametrize("spelling", [
    "2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7F.0.0.1", "127.1", "127.0.1",
    "0x7f000001", "017700000001", "0x7f.1", "127.000.000.001"])
def test_numeric_spellings_of_loopback_are_read_as_loopback(spelling):
    assert str(inet_aton(spelling)) == "127.0.0.1"

    with pytest.raises(UnsafeDestination) as refused:
        webhook_host(f"https://{spelling}/hook")

    assert "127.0.0.1" in refused.value.message and "loopback" in refused.value.message


@pytest.mark.parametrize("spelling, address", [
    ("2852039166", "169.254.169.254"), ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
    ("0251.0376.0251.0376", "169.254.169.254"), ("169.254.43518", "169.254.169.254"),
    ("10.1", "10.0.0.1"), ("0", "0.0.0.0")])
def test_numeric_spellings_are_the_address_they_mean(spelling, address):
    assert str(inet_aton(spelling)) == address


def test_a_public_address_must_still_be_written_plainly():
    # The certificate check and the Host header would carry "134744072": refuse the form.
    with pytest.raises(UnsafeDestination, match="means 8.8.8.8; write an address"):
        webhook_host("https://134744072/")


@pytest.mark.parametrize("host", ["1.2.3.4.5", "256.1.1.1", "08.1.1.1", "example.123",
                                  "0x", "4294967296"])
def test_a_host_ending_in_a_number_that_is_no_address_is_refused(host):
    with pytest.raises(UnsafeDestination, match="neither a name nor an address"):
        webhook_host(f"https://{host}/")


@pytest.mark.parametrize("url, words", [
    ("http://hooks.example/", "https"), ("ftp://hooks.example/", "https"),
    ("file:///etc/passwd", "https"), ("gopher://hooks.example/", "https"),
    ("https://user:pw@hooks.example/", "user name"), ("https://hooks.example@10.0.0.1/",
                                                       "user name"),
    ("https://:@hooks.example/", "user name"),
    ("https://localhost/", "this machine"), ("https://LOCALHOST./", "this machine"),
    ("https://api.localhost/", "this machine"),
    ("https://metadata.google.internal/", "private name"),
    ("https://ip-10-0-0-1.ec2.internal/", "private name"),
    ("https://printer.local/", "private name"), ("https://metadata/", "fully qualified"),
    ("https://instance-data/", "fully qualified"),
    ("https://hooks.example\\@10.0.0.1/", "backslash"), ("https://hooks.example/\t", "control"),
    ("https://hooks.example:0/", "port"), ("https://hooks.example:70000/", "valid URL"),
    ("https:///hook", "no host"), ("https://[::1/", "valid URL"),
    ("https://-bad-.example/", "valid host name"),
    ("https://hooks.example/büro", "percent-encode"),
])
def test_urls_refused_before_any_lookup(url, words):
    with pytest.raises(UnsafeDestination) as refused:
        webhook_host(url)

    assert words in refused.value.message


def test_every_resolved_address_must_be_public():
    url = "https://hooks.example/in"

    with pytest.raises(UnsafeDestination) as refused:
        check_webhook_destination(url, [PUBLIC, "10.0.0.7"])

    # It names the host and the kind, not the private address behind the name.
    assert refused.value.message == "hooks.example resolves to a private address"
    with pytest.raises(UnsafeDestination, match="metadata"):
        check_webhook_destination(url, ["2606:4700::1111", "fd00:ec2::254"])


def test_a_host_that_resolves_to_nothing_is_refused():
    with pytest.raises(UnresolvedHost):
        check_webhook_destination("https://nowhere.example/", [])


def test_a_public_destination_keeps_the_name_for_tls_and_the_addresses_to_connect_to():
    destination = check_webhook_destination(
        "https://Hooks.Example.:8443/in/bound?town=maple#frag", [PUBLIC, "2606:4700::1111",
                                                                 PUBLIC])

    assert destination == Destination(scheme="https", host="hooks.example", port=8443,
                                      target="/in/bound?town=maple",
                                      addresses=(PUBLIC, "2606:4700::1111"))


def test_an_international_name_is_checked_in_its_dns_form():
    destination = check_webhook_destination("https://bücher.example/", [PUBLIC])

    assert destination.host == "xn--bcher-kva.example"


def test_ip_literals_are_checked_as_themselves():
    assert check_webhook_destination("https://8.8.8.8/", ["8.8.8.8"]).host == "8.8.8.8"
    assert check_webhook_destination("https://[2606:4700::1111]/", [
        "2606:4700::1111"]).host == "2606:4700::1111"
    with pytest.raises(UnsafeDestination, match="169.254.169.254 is a cloud metadata"):
        check_webhook_destination("https://169.254.169.254/latest/meta-data/",
                                  ["169.254.169.254"])
    with pytest.raises(UnsafeDestination, match="stands for 10.0.0.1"):
        check_webhook_destination("https://[::ffff:a00:1]/", ["::ffff:a00:1"])


def test_the_local_run_may_use_plain_http_to_loopback_and_nothing_else():
    local = check_webhook_destination("http://127.0.0.1:8123/hook", ["127.0.0.1"],
                                      allow_loopback=True)
    assert (local.scheme, local.host, local.port, local.target) == (
        "http", "127.0.0.1", 8123, "/hook")
    assert check_webhook_destination("http://localhost:8123/", ["::1", "127.0.0.1"],
                                     allow_loopback=True).host == "localhost"

    with pytest.raises(UnsafeDestination, match="https"):
        check_webhook_destination("http://hooks.example/", [PUBLIC], allow_loopback=True)
    with pytest.raises(UnsafeDestination, match="private"):
        check_webhook_destination("https://10.0.0.1/", ["10.0.0.1"], allow_loopback=True)
    with pytest.raises(UnsafeDestination, match="https"):
        check_webhook_destination("http://127.0.0.1/", ["127.0.0.1"])


@pytest.mark.parametrize("spelling", ["2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.1",
                                      "127.0.0.1", "::ffff:127.0.0.1"])
def test_the_system_resolver_reads_numeric_hosts_as_addresses_without_dns(spelling):
    (address,) = SystemResolver().resolve(spelling, 443)

    assert address_refusal(address) is not None


def test_the_system_resolver_answers_nothing_for_a_name_that_does_not_exist():
    assert SystemResolver().resolve("no-such-host.invalid", 443) == []
