"""NATS credentials and the nats-server authorization config, from contracts/permissions.py.

Every client (operator, service, unit) authenticates with an nkey: an Ed25519 key pair whose seed
stays with the client, in a file only its owner may read; the server's config holds only public
keys, so it is no secret. A seed file is created once and then reused, so regenerating the
config after adding a unit keeps every existing client's credentials.

Layout of a credentials folder:
    operator.nk            the `fivetype` command (dead letters, replays)
    services/<service>.nk  one per service
    units/<unit>.nk        one per unit's system, handed to that unit
    channels/<name>.nk     one per public-request channel's system (12345, mailboxes)
    auth.conf              the `authorization { users: [...] }` block for nats-server
"""

import json
import os
from collections.abc import Iterable
from pathlib import Path

import nkeys

from contracts import permissions, streams
from contracts.permissions import Permissions

AUTH_CONF = "auth.conf"
SERVER_CONF = "nats-server.conf"
# The largest message the server accepts: a dead letter is the largest message of the bus (the
# original, up to a stream's limit, plus reason headers), so the dead-letter stream's limit.
MAX_PAYLOAD = streams.DEAD_LETTERS.max_msg_bytes


def operator_seed(directory: Path) -> Path:
    return directory / "operator.nk"


def service_seed(directory: Path, service: str) -> Path:
    return directory / "services" / f"{service}.nk"


def unit_seed(directory: Path, unit: str) -> Path:
    return directory / "units" / f"{unit}.nk"


def channel_seed(directory: Path, channel: str) -> Path:
    return directory / "channels" / f"{channel}.nk"


def ensure_seed(path: Path) -> str:
    """The public key of the user nkey whose seed is in `path`, creating the seed (mode 0600,
    written without ever being readable by others) if the file does not exist."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(seed + b"\n")
    public: bytes = nkeys.from_seed(bytearray(path.read_bytes().strip())).public_key
    return public.decode()


def _strings(values: Iterable[str]) -> str:
    # Quoted: nats-server's config would read an unquoted $JS as a variable reference.
    return ", ".join(json.dumps(value) for value in values)


def user_entry(public_key: str, who: str, granted: Permissions | None) -> str:
    """One entry of `authorization.users`; no permissions means everything is allowed."""
    lines = [f"    # {who}", "    {", f'      nkey: "{public_key}"']
    if granted is not None:
        lines += [
            "      permissions: {",
            f"        publish: {{allow: [{_strings(granted.publish)}]}}",
            f"        subscribe: {{allow: [{_strings(granted.subscribe)}]}}",
            "      }",
        ]
    return "\n".join([*lines, "    }"])


def _entries(directory: Path, units: Iterable[str], channels: Iterable[str]) -> list[str]:
    entries = [user_entry(ensure_seed(operator_seed(directory)), "operator", None)]
    from services.runtime.bus import declared_consumers  # the services' code: only when needed

    for service in permissions.SERVICES:
        key = ensure_seed(service_seed(directory, service))
        granted = permissions.service(service, declared_consumers(service))
        entries.append(user_entry(key, f"service {service}", granted))
    for unit in sorted(set(units)):
        key = ensure_seed(unit_seed(directory, unit))
        entries.append(user_entry(key, f"unit {unit}", permissions.unit(unit)))
    for channel in sorted(set(channels)):
        key = ensure_seed(channel_seed(directory, channel))
        entries.append(user_entry(key, f"channel {channel}", permissions.channel(channel)))
    return entries


def write_authorization(
    directory: Path, units: Iterable[str], channels: Iterable[str] = ()
) -> Path:
    """Create the missing seeds of the operator, the services, `units` and `channels`, and
    write auth.conf granting each exactly its permissions."""
    entries = _entries(directory, units, channels)
    path = directory / AUTH_CONF
    path.write_text("authorization {\n  users: [\n" + "\n".join(entries) + "\n  ]\n}\n")
    return path


def write_server_config(
    directory: Path, units: Iterable[str], channels: Iterable[str] = ()
) -> Path:
    """A config for the embedded nats-server: the message size limit and the authorization
    (listen address, JetStream and logs come from its command line)."""
    write_authorization(directory, units, channels)
    path = directory / SERVER_CONF
    path.write_text(f"max_payload: {MAX_PAYLOAD}\ninclude ./{AUTH_CONF}\n")
    return path
