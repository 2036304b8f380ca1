import ipaddress

import pytest

from services.notifications.domain.addresses import (
    is_public,
    parse_webhook_url,
    redacted,
    refusal_for_addresses,
    refusal_for_host,
)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.8", False),
        ("172.16.3.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fd00::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
    ],
)
def test_only_public_unicast_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def test_hosts_and_their_addresses_are_checked() -> None:
    assert refusal_for_host("hooks.example.gov.cn", allow_private=False) is None
    assert "loopback name" in (refusal_for_host("LOCALHOST", allow_private=False) or "")
    assert "not a public address" in (refusal_for_host("192.168.0.9", allow_private=False) or "")
    assert refusal_for_host("127.0.0.1", allow_private=True) is None
    mixed = [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.1")]
    refusal = refusal_for_addresses("rebind.example", mixed, allow_private=False)
    assert refusal == "rebind.example resolves to non-public address(es) 10.0.0.1; refused"
    assert refusal_for_addresses("x.example", [], allow_private=True) is not None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x.example/h", "must start with https://"),
        ("https:///h", "has no host"),
        ("https://user:pw@x.example/h", "must not carry credentials"),
        ("https://x.example/h#frag", "#fragment"),
        ("https://x.example:99999/h", "invalid port"),
    ],
)
def test_webhook_urls_are_checked(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_webhook_url(url)


def test_logs_show_urls_without_their_query() -> None:
    assert redacted("https://x.example:8443/hook?token=s3cret") == "https://x.example:8443/hook?…"
    assert redacted("http://[::1]:80/h") == "http://[::1]:80/h"
