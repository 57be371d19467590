"""The agent skills shipped with link-cli (`skills/<name>/SKILL.md`), for
`link-cli serve` to publish at `/.well-known/skills/`: an index of names and
descriptions (from each SKILL.md's front matter) and the files themselves. Only files
found by listing the skills folder are served, so no path can escape it."""

from importlib import resources
from pathlib import Path
from typing import Any


def skills_root() -> Path | None:
    """Installed wheels carry the skills inside the package (`linkpay/_skills`); a
    source checkout has them at the repository root."""
    packaged = Path(str(resources.files("linkpay"))) / "_skills"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "skills"
    return checkout if checkout.is_dir() else None


def _front_matter(text: str) -> dict[str, str]:
    if not text.startswith("---\n"):
        return {}
    head = text[4:].split("\n---", 1)[0]
    fields = {}
    for line in head.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            fields[key.strip()] = value.strip()
    return fields


def _files() -> dict[str, Path]:
    root = skills_root()
    if root is None:
        return {}
    found = {}
    for skill in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        for item in sorted(skill.rglob("*")):
            if item.is_file() and not item.is_symlink():
                found[item.relative_to(root).as_posix()] = item
    return found


def skills_index() -> dict[str, Any]:
    files = _files()
    skills = []
    for name, path in files.items():
        if name.count("/") == 1 and name.endswith("/SKILL.md"):
            meta = _front_matter(path.read_text(encoding="utf-8"))
            folder = name.split("/")[0]
            skills.append(
                {
                    "name": meta.get("name", folder),
                    "description": meta.get("description", ""),
                    "path": f"{folder}/SKILL.md",
                    "files": [f for f in files if f.startswith(folder + "/")],
                }
            )
    return {"skills": skills}


def skill_file(relative: str) -> bytes | None:
    path = _files().get(relative)
    return path.read_bytes() if path is not None else None
