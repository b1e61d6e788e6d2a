"""The OpenAPI document is one client generators read cleanly, with stable names, real enums
and the API's real error shape; the docs pages work without internet access."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from shared.error_codes import ErrorCode
from tests.fixtures.stack import Stack

REPO = Path(__file__).resolve().parents[2]
ERROR_SCHEMAS = {"#/components/schemas/ErrorResponse", "#/components/schemas/TaskTimeoutResponse"}
METHODS = {"get", "post", "put", "patch", "delete", "head"}


@pytest.fixture
def document(embedded_stack: Stack) -> dict[str, Any]:
    response = embedded_stack.api.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


def test_operation_ids_are_the_route_names_and_unique(document: dict[str, Any]) -> None:
    ids = {(method, path): op["operationId"] for method, path, op in _operations(document)}
    assert len(set(ids.values())) == len(ids)
    assert ids["post", "/v1/tasks/upload"] == "upload_task"
    assert ids["post", "/v1/tasks/{task_id}/cancel"] == "cancel_task"
    assert ids["get", "/v1/batches/{batch_id}/manifest.jsonl"] == "batch_manifest"
    assert not [i for i in ids.values() if "_v1_" in i]


def test_schema_names_are_plain_and_forms_are_named_after_their_operation(document: dict[str, Any]) -> None:
    names = set(document["components"]["schemas"])
    assert not [n for n in names if n.startswith("Body_") or "__" in n]
    assert {"UploadTaskForm", "UploadBatchForm", "ErrorResponse", "ErrorCode"} <= names
    assert not names & {"HTTPValidationError", "ValidationError"}
    form = document["components"]["schemas"]["UploadTaskForm"]["properties"]
    # the options come from TaskOptions, with their enums and limits
    assert form["mode"]["$ref"] == "#/components/schemas/Mode"
    assert form["pages"]["anyOf"][0]["maxLength"] == 1000


def test_statuses_modes_and_codes_are_enums(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["TaskResource"]["properties"]["status"]["$ref"] == "#/components/schemas/TaskStatus"
    assert schemas["TaskStatus"]["enum"] == ["queued", "running", "succeeded", "failed", "canceled"]
    assert schemas["BatchResource"]["properties"]["status"]["$ref"] == "#/components/schemas/BatchStatus"
    assert schemas["PageResource"]["properties"]["status"]["$ref"] == "#/components/schemas/PageStatus"
    assert "gundam" in schemas["Mode"]["enum"]
    code = schemas["ErrorBody"]["properties"]["code"]["anyOf"]
    # the enum, or any string: a client generated today still reads a code added tomorrow
    assert code == [{"$ref": "#/components/schemas/ErrorCode"}, {"type": "string"}]
    assert {"task_not_finished", "validation_error", "unauthorized"} <= set(schemas["ErrorCode"]["enum"])


def test_every_documented_error_has_the_error_shape_422_included(document: dict[str, Any]) -> None:
    checked = 0
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema["$ref"] in ERROR_SCHEMAS, (method, path, status)
            checked += 1
    assert checked > 50
    upload = document["paths"]["/v1/tasks/upload"]["post"]["responses"]
    assert "422" in upload


def _base_names(node: ast.ClassDef) -> list[str]:
    return [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]


INHERITED = -1


def _code_position(node: ast.ClassDef) -> int | None:
    """Where an own `__init__` takes `code` positionally (None: it takes no code); INHERITED
    when the class has no `__init__` of its own."""
    for statement in node.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == "__init__":
            names = [a.arg for a in statement.args.args[1:]]
            return names.index("code") if "code" in names else None
    return INHERITED


def _error_classes(trees: list[ast.Module]) -> tuple[dict[str, int | None], set[str]]:
    """OcrpError and its subclasses anywhere in the tree, each with the position of its `code`
    argument (OcrpError's: `(message, code)`), and their default codes."""
    classes = [node for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    positions: dict[str, int | None] = {"OcrpError": 1}
    grew = True
    while grew:
        grew = False
        for node in classes:
            parents = [b for b in _base_names(node) if b in positions]
            if node.name in positions or not parents:
                continue
            own = _code_position(node)
            positions[node.name] = positions[parents[0]] if own == INHERITED else own
            grew = True
    codes = set()
    for node in classes:
        if node.name not in positions:
            continue
        for statement in node.body:
            if (
                isinstance(statement, ast.Assign)
                and any(getattr(t, "id", "") == "default_code" for t in statement.targets)
                and isinstance(statement.value, ast.Constant)
            ):
                codes.add(str(statement.value.value))
    return positions, codes


def _codes_raised() -> set[str]:
    """Every literal code passed to an OcrpError (or a subclass) in the source tree, and every
    default code."""
    trees = [
        ast.parse(path.read_text())
        for root in ("server", "shared", "worker")
        for path in (REPO / root).rglob("*.py")
    ]
    positions, codes = _error_classes(trees)
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name not in positions:
                continue
            at = positions[name]
            code = node.args[at] if at is not None and len(node.args) > at else None
            code = next((k.value for k in node.keywords if k.arg == "code"), code)
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                codes.add(code.value)
    return codes


def test_the_error_code_enum_lists_every_code_the_source_raises() -> None:
    missing = _codes_raised() - set(ErrorCode)
    assert not missing, f"add these to shared/error_codes.py: {sorted(missing)}"


@pytest.mark.skipif(
    shutil.which("openapi-python-client", path=str(Path(sys.executable).parent)) is None, reason="dev extra"
)
def test_openapi_python_client_generates_a_client_without_warnings(
    document: dict[str, Any], tmp_path: Path
) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document))
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "client"),
        ],
        capture_output=True,
        text=True,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Warning" not in output, output
    assert (tmp_path / "client" / "api" / "tasks" / "upload_task.py").exists()
    models = (tmp_path / "client" / "models" / "task_status.py").read_text()
    assert "SUCCEEDED" in models


def test_the_docs_pages_load_their_scripts_from_the_api_itself(embedded_stack: Stack) -> None:
    client = embedded_stack.client(None)  # the pages are public, like the document
    for page, script in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = client.get(page)
        assert html.status_code == 200
        assert f"/docs/assets/{script}" in html.text
        assert "cdn." not in html.text
        assert "fonts.googleapis" not in html.text
        asset = client.get(f"/docs/assets/{script}")
        assert asset.status_code == 200
        assert len(asset.content) > 100_000
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
