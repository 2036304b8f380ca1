"""The backup's manifest: what a backup folder holds, and the checks a restore makes of it
before it touches anything (every file there, whole, each store of this version's schema)."""

import hashlib
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

FORMAT = 1  # of the manifest; a restore reads only its own
MANIFEST = "manifest.json"
SERVICES_ROOT = Path(__file__).resolve().parents[2] / "services"


class Refused(Exception):
    """A backup or restore that cannot be done as asked, said in Chinese and English."""

    def __init__(self, code: str, zh: str, en: str):
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


class DatabaseCopy(BaseModel):
    service: str
    backend: Literal["sqlite", "postgresql"]
    file: str  # relative to the backup folder
    bytes: int
    sha256: str
    schema_revision: str  # the Alembic revision the copy is at
    audit_entries: int  # the head of its audit journal
    positions: dict[str, int]  # per durable consumer: the stream sequence it had processed
    seconds: float


class StreamCopy(BaseModel):
    name: str
    file: str
    bytes: int
    sha256: str
    config: dict[str, Any]  # as the snapshot gave them: what the restore request sends back
    state: dict[str, Any]
    consumers: dict[str, dict[str, int]]  # per consumer: delivered and ack floor (stream seq)
    seconds: float


class Manifest(BaseModel):
    format: int
    id: str
    taken_at: datetime
    finished_at: datetime
    databases: list[DatabaseCopy]
    streams: list[StreamCopy]

    def database(self, service: str) -> DatabaseCopy | None:
        return next((copy for copy in self.databases if copy.service == service), None)


def digest(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def code_revision(service: str) -> str:
    """The Alembic head this version of fivetype migrates the service's store to."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(SERVICES_ROOT / service / "migrations"))
    return "+".join(sorted(ScriptDirectory.from_config(config).get_heads()))


def read_manifest(directory: Path) -> Manifest:
    """The backup's manifest, once every file it lists is there, whole, with its checksum, and
    every store's schema is the one this version migrates to; else Refused, touching nothing."""
    if not directory.is_dir():
        raise Refused("not_found", f"没有备份目录 {directory}", f"there is no folder {directory}")
    path = directory / MANIFEST
    if not path.is_file():
        raise Refused(
            "incomplete",
            f"{directory} 中没有 {MANIFEST}：备份没有完成，不能用它恢复",
            f"{directory} has no {MANIFEST}: the backup did not finish and cannot be restored",
        )
    try:
        manifest = Manifest.model_validate_json(path.read_bytes())
    except (ValidationError, ValueError) as exc:
        raise Refused(
            "damaged",
            f"{MANIFEST} 已损坏，无法读取",
            f"{MANIFEST} is damaged and cannot be read ({str(exc).splitlines()[0]})",
        ) from exc
    if manifest.format != FORMAT:
        raise Refused(
            "other_format",
            f"备份格式 {manifest.format} 不是本版本使用的格式 {FORMAT}",
            f"the backup is in format {manifest.format}; this version reads format {FORMAT}",
        )
    items: list[DatabaseCopy | StreamCopy] = [*manifest.databases, *manifest.streams]
    for item in items:
        _check_file(directory, item)
    return manifest


def _check_file(directory: Path, item: DatabaseCopy | StreamCopy) -> None:
    relative = item.file
    path = directory / relative
    if not path.is_file():
        raise Refused(
            "incomplete",
            f"备份不完整：缺少 {relative}",
            f"the backup is incomplete: {relative} is missing",
        )
    found_size, found = digest(path)
    if (found_size, found) != (item.bytes, item.sha256):
        raise Refused(
            "damaged",
            f"{relative} 已损坏：校验和与清单不符",
            f"{relative} is damaged: its checksum does not match the manifest",
        )


def check_schemas(manifest: Manifest, services: Iterable[str]) -> None:
    for service in services:
        copy = manifest.database(service)
        if copy is None:
            raise Refused(
                "not_in_backup",
                f"备份中没有 {service} 的数据库",
                f"the backup holds no store of {service}",
            )
        expected = code_revision(service)
        if copy.schema_revision != expected:
            raise Refused(
                "other_schema",
                f"{service} 的备份是数据库结构版本 {copy.schema_revision}，本版本为 {expected}："
                "请用做备份的那个版本恢复，再升级",
                f"the backup of {service} is at schema revision {copy.schema_revision}, this "
                f"version at {expected}: restore it with the version that took it, then upgrade",
            )
