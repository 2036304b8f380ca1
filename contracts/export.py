"""Generate the published contract files: one JSON Schema per message and the AsyncAPI document.

Run `python -m contracts.export` after changing a message; a test fails while the files drift.
"""

import json
from pathlib import Path
from typing import Any

import yaml

from contracts import streams, subjects
from contracts.envelope import envelope_model, schema_urn
from contracts.registry import MESSAGES, MessageSpec

HERE = Path(__file__).parent
SCHEMA_DIR = HERE / "schemas"
ASYNCAPI_PATH = HERE / "asyncapi.yaml"
VERSION = "1.0.0"


def schema_file_name(spec: MessageSpec) -> str:
    return f"{spec.name}.v{spec.model.VERSION}.json"


def message_schema(spec: MessageSpec) -> dict[str, Any]:
    """A self-contained JSON Schema (draft 2020-12) for the whole enveloped message."""
    schema = envelope_model(spec.model).model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_urn(spec.model),
        "title": spec.name,
        "description": (spec.model.__doc__ or "").strip(),
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def _channel_id(spec: MessageSpec) -> str:
    return spec.name[0].lower() + spec.name[1:]


def asyncapi_document() -> dict[str, Any]:
    """AsyncAPI 3.0, seen from the platform: it receives commands and sends events."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in MESSAGES:
        channel = _channel_id(spec)
        messages[spec.name] = {
            "name": spec.name,
            "title": spec.name,
            "summary": (spec.model.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "properties": {
                    "Nats-Msg-Id": {
                        "type": "string",
                        "description": "Set it to the envelope id: JetStream drops duplicates.",
                    }
                },
            },
            "payload": {"$ref": f"./schemas/{schema_file_name(spec)}"},
            "x-producer": spec.producer,
            "x-consumers": list(spec.consumers),
        }
        channels[channel] = {
            "address": spec.subject(),
            "description": f"Stream {spec.stream.name}.",
            "parameters": {"unit": {"description": "Code of the responsible unit."}},
            "messages": {spec.name: {"$ref": f"#/components/messages/{spec.name}"}},
        }
        operations[("receive" if spec.kind == "command" else "send") + spec.name] = {
            "action": "receive" if spec.kind == "command" else "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{spec.name}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "fivetype bus",
            "version": VERSION,
            "description": (
                "Messages of the Five-Type Government supervision platform on NATS JetStream. "
                "Every message is a CloudEvents-style JSON envelope; `subject` is the unit."
            ),
        },
        "servers": {
            "embedded": {
                "host": "127.0.0.1:4222",
                "protocol": "nats",
                "description": "The embedded stack's nats-server (make run).",
            }
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
        "x-streams": [
            {
                "name": s.name,
                "subjects": list(s.subjects),
                "description": s.description,
                "max_age_seconds": s.max_age_seconds,
                "duplicate_window_seconds": s.duplicate_window_seconds,
                "max_msg_bytes": s.max_msg_bytes,
            }
            for s in streams.ALL
        ],
        "x-dead-letters": f"{subjects.DEAD_LETTERS}.<consumer>",
    }


def rendered_files() -> dict[Path, str]:
    files = {
        SCHEMA_DIR / schema_file_name(spec): json.dumps(
            message_schema(spec), indent=2, ensure_ascii=False
        )
        + "\n"
        for spec in MESSAGES
    }
    files[ASYNCAPI_PATH] = yaml.safe_dump(
        asyncapi_document(), sort_keys=False, allow_unicode=True, width=100
    )
    return files


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for stale in set(SCHEMA_DIR.glob("*.json")) - set(rendered_files()):
        stale.unlink()
    for path, text in rendered_files().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
