"""A small reader of the repository's Dockerfiles: instructions grouped by build stage, with line
continuations joined and comments dropped. Enough to check what the files declare; hadolint
does the linting."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"stage {self.name} has no {keyword}"
        return found[-1]

    def exec_form(self, keyword: str) -> list[str]:
        """The JSON array of the stage's last CMD/ENTRYPOINT (or of HEALTHCHECK's CMD)."""
        text = self.last(keyword)
        array = text[text.index("[") :]
        return list(json.loads(array))


@dataclass
class Dockerfile:
    args: dict[str, str]  # ARG defaults declared before the first FROM
    stages: list[Stage]

    def stage(self, name: str) -> Stage:
        found = [s for s in self.stages if s.name == name]
        assert found, f"no stage {name}"
        return found[0]


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    return lines


def read_dockerfile(path: Path) -> Dockerfile:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in _logical_lines(path.read_text()):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest.strip(), re.IGNORECASE)
            assert match, f"cannot read FROM {rest!r}"
            stages.append(Stage(match.group(2) or str(len(stages)), match.group(1)))
        elif keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
        elif stages:
            stages[-1].instructions.append((keyword, rest.strip()))
    return Dockerfile(args, stages)
