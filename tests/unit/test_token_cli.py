"""`fivetype token issue`: tokens the services accept, and refusals of incomplete requests."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fivetype.cli import app
from services.runtime.auth import Verifier
from tests.auth import TEST_SECRET


def issue(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["token", "issue", *args])
    return result.exit_code, result.output


def test_a_unit_systems_token_names_its_unit_and_lasts() -> None:
    code, output = issue("--role", "unit_reporter", "--unit", "360102", "--ttl", "365d")
    assert code == 0, output
    claims = Verifier.of(TEST_SECRET).claims(output.strip())
    assert (claims["sub"], claims["role"], claims["unit"]) == (
        "unit_reporter-360102",
        "unit_reporter",
        "360102",
    )
    assert claims["exp"] - claims["iat"] == 365 * 86400


@pytest.mark.parametrize(
    "args",
    [
        ["--role", "unit_reporter"],  # no unit
        ["--role", "viewer", "--subject", "张三"],  # not an identifier
        ["--role", "viewer", "--ttl", "forever"],
    ],
)
def test_incomplete_requests_are_refused(args: list[str]) -> None:
    code, _output = issue(*args)
    assert code == 2


def test_no_secret_no_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FIVETYPE_AUTH_SECRET")
    code, output = issue("--role", "viewer", "--data-dir", str(tmp_path))
    assert (code, "找不到签名密钥" in output) == (2, True)
    code, output = issue("--role", "viewer", "--data-dir", str(tmp_path), "--lang", "en")
    assert (code, "no secret" in output) == (2, True)
