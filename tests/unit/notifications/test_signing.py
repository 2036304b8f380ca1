import hashlib
import hmac

from services.notifications.domain.signing import signature, verify

SECRET = "whsec-0123456789abcdef0123456789abcdef"
BODY = b'{"topic":"deadline_missed","unit":"360102"}'
TIMESTAMP = 1782871200  # 2026-07-01T02:00:00Z


def test_the_documented_recipe_gives_the_signature() -> None:
    expected = hmac.new(SECRET.encode(), f"{TIMESTAMP}.".encode() + BODY, hashlib.sha256)
    assert signature(SECRET, TIMESTAMP, BODY) == f"v1={expected.hexdigest()}"


def test_the_worked_example_of_the_documentation_holds() -> None:
    # docs/notifications.md, "Verifying webhook signatures": the same inputs, the same header.
    assert signature(SECRET, TIMESTAMP, BODY) == (
        "v1=a43f9e695c520e3dbb29c727c52056fc9c0fabddfda6ad5133882e8af1d4f6c5"
    )


def test_verification_accepts_the_right_request_only() -> None:
    header = signature(SECRET, TIMESTAMP, BODY)
    assert verify(SECRET, str(TIMESTAMP), header, BODY, now=TIMESTAMP + 10)
    assert not verify(SECRET, str(TIMESTAMP), header, BODY + b" ", now=TIMESTAMP)
    assert not verify("another-secret", str(TIMESTAMP), header, BODY, now=TIMESTAMP)
    assert not verify(SECRET, str(TIMESTAMP + 1), header, BODY, now=TIMESTAMP)
    assert not verify(SECRET, str(TIMESTAMP), header, BODY, now=TIMESTAMP + 301)  # replayed
    assert not verify(SECRET, "yesterday", header, BODY, now=TIMESTAMP)


def test_several_signatures_are_accepted_while_a_secret_is_rotated() -> None:
    both = f"{signature('old-secret', TIMESTAMP, BODY)}, {signature(SECRET, TIMESTAMP, BODY)}"
    assert verify(SECRET, str(TIMESTAMP), both, BODY, now=TIMESTAMP)
