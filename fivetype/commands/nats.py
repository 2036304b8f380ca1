"""`fivetype nats`: credentials and the nats-server authorization config.

`unit` (or `channel`) creates one client's nkey and prints the entry to add to the server's
users; `config` writes the whole authorization block for the operator, the four services and
the units and channels named; `provision` creates or updates the streams with the operator's
identity (services may create a missing stream but never change one).
Seeds are created once and reused, so running either again changes no existing credentials.
"""

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from fivetype import exits
from fivetype.commands._nats import NatsUrl, NkeyFile, connection
from fivetype.lang import Lang, say
from fivetype.state import CREDENTIALS

if TYPE_CHECKING:
    from contracts.permissions import Permissions

app = typer.Typer(help="NATS credentials and permissions.", no_args_is_help=True)
console = Console()

Directory = Annotated[
    Path, typer.Option("--dir", help="The credentials folder (seeds and auth.conf).")
]
DEFAULT_DIRECTORY = Path("data") / CREDENTIALS  # the embedded stack's


# Channel names are the `channel` values of public requests (e.g. hotline_12345).
CHANNEL_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,39}$"


def _code(code: str, pattern: str | None = None) -> str:
    """Unit codes and channel names end up in subjects: nothing but safe token characters."""
    from contracts.envelope import UNIT_CODE_PATTERN

    pattern = pattern or UNIT_CODE_PATTERN
    if not re.fullmatch(pattern, code):
        raise typer.BadParameter(f"{code!r} does not match {pattern}")
    return code


def _grant(seed: Path, who: str, granted: "Permissions", inbox: str, lang: str) -> None:
    from fivetype import natsauth

    entry = natsauth.user_entry(natsauth.ensure_seed(seed), who, granted)
    seed_line = say(
        lang,
        f"密钥种子文件（请私下交付并妥善保密）：{seed}",
        f"seed file (hand it over privately; keep it secret): {seed}",
    )
    console.print(seed_line, markup=False)
    inbox_line = say(
        lang, f"其客户端须使用的收件前缀：{inbox}", f"inbox prefix its client must use: {inbox}"
    )
    console.print(inbox_line, markup=False)
    console.print(
        say(
            lang,
            "将以下条目加入 nats-server 的 authorization.users，然后重新加载：",
            "add to authorization.users of nats-server, then reload it:",
        )
    )
    print(entry)


@app.command()
def unit(
    code: Annotated[str, typer.Argument(help="The unit's code, e.g. 360102.")],
    directory: Directory = DEFAULT_DIRECTORY,
    lang: Lang = None,
) -> None:
    """Create a unit's nkey seed (reused if it exists) and print its server user entry."""
    assert lang is not None  # the option's callback chose one
    from contracts import permissions
    from fivetype import natsauth

    seed = natsauth.unit_seed(directory, _code(code))
    inbox = permissions.unit_inbox(code)
    _grant(seed, f"unit {code}", permissions.unit(code), inbox, lang)


@app.command()
def channel(
    name: Annotated[str, typer.Argument(help="The channel system's name, e.g. hotline_12345.")],
    directory: Directory = DEFAULT_DIRECTORY,
    lang: Lang = None,
) -> None:
    """Create a public-request channel's nkey seed and print its server user entry."""
    assert lang is not None  # the option's callback chose one
    from contracts import permissions
    from fivetype import natsauth

    seed = natsauth.channel_seed(directory, _code(name, CHANNEL_PATTERN))
    inbox = permissions.channel_inbox(name)
    _grant(seed, f"channel {name}", permissions.channel(name), inbox, lang)


@app.command()
def config(
    directory: Directory = DEFAULT_DIRECTORY,
    units: Annotated[
        list[str] | None, typer.Option("--unit", help="A unit to grant (repeatable).")
    ] = None,
    units_file: Annotated[
        Path | None, typer.Option(help="Grant every unit of this unit directory (units.yaml).")
    ] = None,
    channels: Annotated[
        list[str] | None, typer.Option("--channel", help="A channel to grant (repeatable).")
    ] = None,
    lang: Lang = None,
) -> None:
    """Write auth.conf: the operator, the four services, the units and the channels."""
    assert lang is not None  # the option's callback chose one
    from fivetype import natsauth
    from services.measures.domain.catalogue import load_units

    codes = [_code(code) for code in units or []]
    if units_file is not None:
        codes += [u.code for u in load_units(units_file).units]
    names = [_code(name, CHANNEL_PATTERN) for name in channels or []]
    path = natsauth.write_authorization(directory, codes, names)
    units_n, channels_n = len(set(codes)), len(set(names))
    wrote = say(
        lang,
        f"已写入 {path}（{units_n} 个单位，{channels_n} 个渠道）；密钥种子在同一文件夹",
        f"wrote {path} ({units_n} unit(s), {channels_n} channel(s)); seeds are beside it",
    )
    console.print(wrote, markup=False)
    include = f"include {natsauth.AUTH_CONF}"
    payload = f"max_payload: {natsauth.MAX_PAYLOAD}"
    console.print(
        say(
            lang,
            f"nats-server：在其配置中加入 `{include}` 并设置 `{payload}`",
            f"nats-server: `{include}` in its config and set `{payload}`",
        ),
        markup=False,
    )


@app.command()
def provision(
    nats_url: NatsUrl = None,
    nkey_file: NkeyFile = None,
    replicas: Annotated[int, typer.Option(help="Replicas of each stream (3 in a cluster).")] = 1,
    lang: Lang = None,
) -> None:
    """Create or update every stream from the contracts (run after an upgrade)."""
    assert lang is not None  # the option's callback chose one
    from services.runtime.bus import provision_streams  # the runtime: only when needed

    async def run() -> None:
        async with connection(nats_url, nkey_file) as nc:
            await provision_streams(nc.jetstream(), replicas)

    try:
        asyncio.run(run())
    except TimeoutError as exc:  # a refused request goes unanswered
        no_answer = say(
            lang,
            "无应答：使用的是运维身份（operator）的密钥吗？（各服务无权修改数据流）",
            "no answer: is this the operator's nkey? (services may not change streams)",
        )
        console.print(no_answer)
        raise typer.Exit(exits.FAILURE) from exc
    console.print(say(lang, "数据流已配置", "streams provisioned"))
