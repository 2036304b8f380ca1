"""Bearer tokens for tests: every service under test verifies with TEST_SECRET (conftest puts it
in FIVETYPE_AUTH_SECRET, which child processes and in-process settings both read)."""

from datetime import timedelta

from services.runtime.auth import Role, issue

TEST_SECRET = "fivetype-tests-only-0123456789abcdef0123456789abcdef"


def token(role: str = "office_admin", unit: str | None = None, subject: str | None = None) -> str:
    """A valid token; the subject defaults to one per role and unit, e.g. `unit_reporter-360102`."""
    return issue(
        TEST_SECRET,
        subject=subject or "-".join(filter(None, [role, unit])),
        role=Role(role),
        unit=unit,
        ttl=timedelta(hours=1),
    )


def headers(
    role: str = "office_admin", unit: str | None = None, subject: str | None = None
) -> dict[str, str]:
    """The Authorization header of `token(...)`."""
    return {"Authorization": f"Bearer {token(role, unit, subject)}"}
