"""Imports run one way between the packages (docs/architecture.md, "Packages"): a module
that breaks a rule is named with the import that breaks it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

# worker's packages and top-level modules
WORKER = ("app", "hooks", "beat_guard", "batches", "engines", "layout", "maintenance", "ops")
WORKER += ("pipeline", "tasks", "textlayer", "webhooks")

# package -> packages it must never import (prefixes of dotted module names)
FORBIDDEN = {
    "shared": ("server", "worker", "ocrp"),
    "server": ("worker",),
    # the pure core: recognised pages in, layout out
    "worker/layout": tuple(f"worker.{name}" for name in WORKER if name != "layout"),
    # engines produce recognised pages; they never drive a task
    "worker/engines": tuple(
        f"worker.{name}" for name in WORKER if name not in {"engines", "layout", "textlayer"}
    ),
    "worker/webhooks": tuple(f"worker.{name}" for name in WORKER if name != "webhooks"),
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def breaks(module: str, forbidden: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in forbidden)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_never_imports_what_sits_above_it(package: str) -> None:
    offences = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for module in sorted(imported_modules(path))
        if breaks(module, FORBIDDEN[package])
    ]
    assert offences == []
