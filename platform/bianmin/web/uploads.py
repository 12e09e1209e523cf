"""Pack uploads: checked in a temporary copy of the policies tree, kept under ``var/packs``.

An upload is a zip of a pack folder, or one YAML file replacing a file of an existing pack. It
is never written into ``policies/``: the whole policies tree is copied to a temporary folder,
the upload laid over the pack's folder there, and the copy compiled. A clean pack is kept in
``<var>/packs/<jurisdiction>/<content hash>/`` until activated with an effective date; the
activated ones are loaded again at start-up, so cases pinned to them keep their rules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..packs import Compiler
from ..packs.model import Pack
from ..packs.problems import PackError, Problem
from .context import Web

MAX_FILES = 200
# What a zip may expand to: a whole pack is well under 1 MiB, and a small zip can expand to
# gigabytes. zipfile reads no more than each member's declared size, so the sum bounds the disk.
MAX_EXPANDED = 8 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9_\-./]+$")


class UploadError(ValueError):
    pass


@dataclass
class Checked:
    jurisdiction: str
    pack: Pack | None
    problems: list[str]  # file:line:col: rule: message, with paths relative to the pack


def check_upload(web: Web, jurisdiction: str, filename: str, content: bytes) -> Checked:
    """Compile the pack as it would be with the upload; problems name file and line."""
    with tempfile.TemporaryDirectory(prefix="bianmin-upload-") as tmp:
        root = Path(tmp) / "policies"
        shutil.copytree(web.policies, root, ignore=shutil.ignore_patterns("tests", "*.md"))
        folder = root / jurisdiction
        _lay(folder, filename, content)
        try:
            pack = Compiler(root).compile(folder)
        except PackError as exc:
            return Checked(jurisdiction, None, [_relative(p, root) for p in exc.problems])
        if pack.id != jurisdiction:
            return Checked(jurisdiction, None, [f"pack.yaml:1:1: id: 上传的政策包 id 是 {pack.id!r}, 应为 {jurisdiction!r}"])
        keep = web.uploads / jurisdiction / pack.content_hash
        if not keep.exists():
            shutil.copytree(folder, keep / "pack", ignore=shutil.ignore_patterns("tests"))
        return Checked(jurisdiction, pack, [])


def _lay(folder: Path, filename: str, content: bytes) -> None:
    name = PurePosixPath(filename).name
    if name.endswith(".zip"):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        try:
            archive = zipfile.ZipFile(io.BytesIO(content))
        except zipfile.BadZipFile as exc:
            raise UploadError("不是有效的 zip 文件") from exc
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_FILES:
            raise UploadError(f"zip 中文件过多 (上限 {MAX_FILES})")
        if sum(m.file_size for m in members) > MAX_EXPANDED:
            raise UploadError(f"zip 解压后超过 {MAX_EXPANDED // (1024 * 1024)} MiB 的上限")
        for member in members:
            if not _NAME.match(member.filename) or ".." in member.filename.split("/") \
                    or member.filename.startswith("/"):
                raise UploadError(f"zip 中的文件名不允许: {member.filename!r}")
        prefix = _common_folder([m.filename for m in members])
        for member in members:
            rel = member.filename[len(prefix):]
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(member))
    elif name.endswith((".yaml", ".yml")) and _NAME.match(name):
        if not folder.is_dir():
            raise UploadError("单个文件只能替换已有政策包中的文件; 新政策包请上传 zip")
        (folder / name).write_bytes(content)
    else:
        raise UploadError("请上传 .zip 政策包或单个 .yaml 文件")


def _common_folder(names: list[str]) -> str:
    """``xupu/`` when every member sits in one top folder that holds pack.yaml."""
    tops = {n.split("/", 1)[0] for n in names if "/" in n}
    if len(tops) == 1 and all("/" in n for n in names):
        return tops.pop() + "/"
    return ""


def _relative(problem: Problem, root: Path) -> str:
    text = str(problem)
    return text.replace(str(root) + "/", "policies/")


def activate(web: Web, pack: Pack, effective_from: dt.date) -> Pack:
    """Put a checked pack in force from ``effective_from`` (in memory and under var/packs)."""
    dated = dataclasses.replace(pack, effective_from=effective_from)
    keep = web.uploads / pack.id / pack.content_hash
    keep.mkdir(parents=True, exist_ok=True)
    (keep / "activation.json").write_text(json.dumps({"effective_from": effective_from.isoformat()}))
    web.registry.add(dated)
    return dated


def load_accepted(web: Web) -> None:
    """Activated uploads of earlier runs, back into the registry."""
    if not web.uploads.is_dir():
        return
    for activation in sorted(web.uploads.glob("*/*/activation.json")):
        folder = activation.parent
        root = Path(tempfile.mkdtemp(prefix="bianmin-packs-"))
        try:
            shutil.copytree(web.policies, root / "policies", ignore=shutil.ignore_patterns("tests", "*.md"))
            target = root / "policies" / folder.parent.name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(folder / "pack", target)
            pack = Compiler(root / "policies").compile(target)
            when = dt.date.fromisoformat(json.loads(activation.read_text())["effective_from"])
            web.registry.add(dataclasses.replace(pack, effective_from=when))
        except (PackError, OSError, ValueError, KeyError) as exc:
            web.problems.append(exc)  # type: ignore[arg-type]
        finally:
            shutil.rmtree(root, ignore_errors=True)


def pending(web: Web, jurisdiction: str, content_hash: str) -> Pack | None:
    """A checked, not yet activated upload (compiled again from var/packs)."""
    folder = web.uploads / jurisdiction / content_hash / "pack"
    if not folder.is_dir() or not re.fullmatch(r"[0-9a-f]{16,64}", content_hash):
        return None
    with tempfile.TemporaryDirectory(prefix="bianmin-packs-") as tmp:
        root = Path(tmp) / "policies"
        shutil.copytree(web.policies, root, ignore=shutil.ignore_patterns("tests", "*.md"))
        shutil.rmtree(root / jurisdiction, ignore_errors=True)
        shutil.copytree(folder, root / jurisdiction)
        try:
            return Compiler(root).compile(root / jurisdiction)
        except PackError:
            return None
