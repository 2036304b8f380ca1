"""Webhook signatures: HMAC-SHA256 over the timestamp and the body, in the manner of Stripe's
and Slack's, so integrators can use the recipes they know.

    signed = f"{timestamp}.".encode() + body
    Fivetype-Signature: v1=<hex HMAC-SHA256(secret, signed)>

A receiver recomputes the signature with its copy of the secret, compares in constant time and
refuses a timestamp too far from its clock (a replayed old request). `verify` is that recipe.
"""

import hashlib
import hmac

TIMESTAMP_HEADER = "Fivetype-Timestamp"
SIGNATURE_HEADER = "Fivetype-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={digest.hexdigest()}"


def verify(
    secret: str,
    timestamp_header: str,
    signature_header: str,
    body: bytes,
    now: float,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True when the headers sign `body` with `secret` and the timestamp is recent."""
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    expected = signature(secret, timestamp, body)
    # Several signatures may be sent while a secret is rotated: accept any that matches.
    offered = [part.strip() for part in signature_header.split(",")]
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)
