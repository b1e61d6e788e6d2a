"""Schemathesis against the API's own OpenAPI document, in process, with a real key: whatever
it generates from the schema, valid or not, the API never answers 5xx, and every answer has a
status, a content type and a body that the schema declares.

(Driven through Hypothesis directly: schemathesis's pytest plugin does not work with pytest 9.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fixtures.stack import Stack, build_stack

# 5xx answers that are part of the contract: the interactive routes give up waiting (504), and
# a dependency may be away (503); every other 5xx is a bug
CONTRACT_5XX = {(504, "ocr_timeout"), (503, "database_unavailable"), (503, "storage_unavailable")}


@schemathesis.check
def no_unexpected_server_error(ctx, response, case) -> None:  # type: ignore[no-untyped-def]
    if response.status_code < 500:
        return
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    assert (response.status_code, code) in CONTRACT_5XX, f"{response.status_code}: {response.text[:300]}"


CHECKS = [
    no_unexpected_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 25


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # no rate limit: the fuzzer sends hundreds of requests, and 429s would hide the routes; no
    # worker runs, so the interactive routes give up waiting at once (504)
    stack = build_stack(
        "fuzz", tmp_path_factory.mktemp("fuzz"), rate_limit_per_s=0, interactive_timeout_s=0.5
    )
    yield stack
    stack.close()


def _fuzz(operation, mode: GenerationMode, api_key: str, seen: Counter[tuple[str, int]]) -> None:  # type: ignore[no-untyped-def]
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call_and_validate(headers={"Authorization": f"Bearer {api_key}"}, checks=CHECKS)
        seen[(operation.label, response.status_code)] += 1

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (an operation without parameters)
        assert mode == GenerationMode.NEGATIVE


@pytest.mark.slow
def test_the_api_keeps_its_schema_and_never_fails_with_5xx(fuzz_stack: Stack) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_stack.api.app)
    failures: list[str] = []
    seen: Counter[tuple[str, int]] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, fuzz_stack.api_key, seen)
            except Exception as exc:
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)
    # the fuzzer got past authentication into the routes and their validation
    assert seen[("GET /v1/tasks", 200)] > 0, seen
    assert {400, 404, 422} <= {status for _, status in seen}, seen
    assert sum(seen.values()) > 300
