"""Where the webhook channel may send: URL rules and the refusal of non-public addresses
(SSRF: a webhook URL must not reach the platform's own network). Pure: no I/O; DNS answers are
passed in."""

import ipaddress
from urllib.parse import SplitResult, urlsplit

from contracts.common import invalid_value

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast: not private, loopback, link-local, shared, reserved, ..."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def parse_webhook_url(url: str) -> SplitResult:
    """The URL's parts; ValueError with the reason when it cannot be a webhook target."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise invalid_value(
            "推送地址须以“https://”或“http://”开头",
            "the webhook URL must start with https:// or http://",
        )
    if not parts.hostname:
        raise invalid_value("推送地址缺少主机名", "the webhook URL has no host")
    if parts.username is not None or parts.password is not None:
        raise invalid_value(
            "推送地址不得包含用户名或密码：请求由密钥签名",
            "the webhook URL must not carry credentials; the secret signs requests",
        )
    if parts.fragment:
        raise invalid_value("推送地址不得包含 # 片段", "the webhook URL must not have a #fragment")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise invalid_value(
            "推送地址的端口无效", f"the webhook URL has an invalid port: {exc}"
        ) from exc
    return parts


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def refusal_for_host(host: str, allow_private: bool) -> str | None:
    """Why a URL naming this host is refused outright (an IP literal that is not public)."""
    if allow_private:
        return None
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(
        ".localhost"
    ):
        return f"{host} is a loopback name; private and loopback targets are refused"
    address = literal_address(host)
    if address is not None and not is_public(address):
        return f"{address} is not a public address; private and loopback targets are refused"
    return None


def refusal_for_addresses(host: str, addresses: list[IPAddress], allow_private: bool) -> str | None:
    """Why the addresses a host resolved to are refused: all of them must be public, or a
    rebinding name could pick a private one between our check and the connection."""
    if not addresses:
        return f"{host} did not resolve to any address"
    if allow_private:
        return None
    private = sorted(str(a) for a in addresses if not is_public(a))
    if private:
        return f"{host} resolves to non-public address(es) {', '.join(private)}; refused"
    return None


def redacted(url: str) -> str:
    """The URL without its query and fragment, for logs: a query string may carry a token."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    query = "?…" if parts.query else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{query}"
