"""Which stack and which token a command uses: while a demo runs and no stack runs from ./data,
the default folder stands for the demo's (its services and its secret, whatever an earlier
`make run` left in ./data); a 401 or 403 says which folder, URL and token were used."""

import json
import os
from pathlib import Path

import httpx
import pytest
import typer

from fivetype import apiclient, state
from services.runtime.auth import Verifier


def _running(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    running = {"pid": os.getpid(), "nats_url": "nats://127.0.0.1:1", "services": {}}
    (folder / "stack.json").write_text(json.dumps(running), encoding="utf-8")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("FIVETYPE_AUTH_SECRET", "FIVETYPE_AUTH_SECRET_FILE", "FIVETYPE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    Path("data").mkdir()
    Path("data/auth-secret").write_text("left-by-an-earlier-make-run-0123456789", encoding="utf-8")
    return tmp_path


def test_a_running_demo_is_the_default_when_data_has_no_stack(workdir: Path) -> None:
    assert state.resolve(state.DEFAULT_DATA_DIR) == state.DEFAULT_DATA_DIR
    _running(state.DEMO_DATA_DIR)
    demo_secret = "the-demo-stack-secret-0123456789abcdef"
    (state.DEMO_DATA_DIR / "auth-secret").write_text(demo_secret, encoding="utf-8")
    assert state.resolve(state.DEFAULT_DATA_DIR) == state.DEMO_DATA_DIR
    secret = apiclient.find_secret(state.DEFAULT_DATA_DIR)
    assert secret is not None and secret.value == demo_secret
    assert secret.source == str(state.DEMO_DATA_DIR / "auth-secret")
    _running(state.DEFAULT_DATA_DIR)  # a stack of its own in ./data wins
    assert state.resolve(state.DEFAULT_DATA_DIR) == state.DEFAULT_DATA_DIR


def test_a_refused_token_says_which_folder_url_and_token(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def unauthorised(_request: httpx.Request) -> httpx.Response:
        problem = {"code": "invalid_token", "title": "令牌无效", "status": 401}
        return httpx.Response(401, json=problem)

    http = apiclient.client("http://127.0.0.1:8103", state.DEFAULT_DATA_DIR, "zh")
    http._transport = httpx.MockTransport(unauthorised)
    with pytest.raises(typer.Exit) as ended:
        apiclient.call(http, "GET", "/v1/rankings/2026")
    assert ended.value.exit_code == 1
    said = capsys.readouterr()
    text = (said.out + said.err).replace("\n", "")
    assert "令牌无效" in text and "数据目录" in text and str((workdir / "data").resolve()) in text
    assert "http://127.0.0.1:8103" in text
    assert str(Path("data") / "auth-secret") in text


def test_a_refusal_prints_what_is_wrong_with_each_field(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def invalid(_request: httpx.Request) -> httpx.Response:
        problem = {
            "code": "validation_failed",
            "title": "请求内容不符合要求",
            "status": 422,
            "detail": "共 2 处问题",
            "errors": [
                {"loc": "body.milestones.0.due_date", "msg": "应为日期（YYYY-MM-DD）"},
                {"loc": "body", "msg": "须填写标准责任类型“kind”或规则“rule”"},
            ],
        }
        return httpx.Response(422, json=problem)

    http = apiclient.client("http://127.0.0.1:8101", state.DEFAULT_DATA_DIR, "zh")
    http._transport = httpx.MockTransport(invalid)
    with pytest.raises(typer.Exit) as ended:
        apiclient.call(http, "POST", "/v1/assignments", json={})
    assert ended.value.exit_code == 1
    said = capsys.readouterr()
    lines = (said.out + said.err).splitlines()
    assert "422 validation_failed: 请求内容不符合要求 共 2 处问题" in lines[0]
    assert lines[1:] == [
        "  body.milestones.0.due_date: 应为日期（YYYY-MM-DD）",
        "  body: 须填写标准责任类型“kind”或规则“rule”",
    ]


def test_the_demo_acts_as_a_unit_with_a_token_of_that_unit_only(workdir: Path) -> None:
    """What only a unit may do (its appeal) goes with a unit reporter's token of that unit,
    signed with the stack's secret; without a secret there is nothing to sign with."""
    header = apiclient.unit_headers(state.DEFAULT_DATA_DIR, "360123")
    secret = "left-by-an-earlier-make-run-0123456789"
    claims = Verifier.of(secret).claims(header["authorization"].removeprefix("Bearer "))
    assert (claims["role"], claims["unit"], claims["sub"]) == (
        "unit_reporter",
        "360123",
        "360123:contact",
    )
    Path("data/auth-secret").unlink()
    assert apiclient.unit_headers(state.DEFAULT_DATA_DIR, "360123") == {}
