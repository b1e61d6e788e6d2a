"""Raw HTML that OCR or model output carries into full.md: scripts, event handlers,
`javascript:` links and spoofed page markers are neutralised, tables and formatting kept; result
routes and /ops send nosniff, a restrictive CSP and X-Frame-Options: DENY. End to end through a
real worker replaying hostile model output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.documents import text_pdf
from tests.fixtures.stack import Stack
from worker.layout.grounding_text import END_OF_SENTENCE
from worker.layout.sanitise import safe_markdown

HOSTILE_OUTPUT = f"""<|ref|>text<|/ref|><|det|>[[60, 40, 480, 100]]<|/det|>
Hello <script>alert(1)</script><img src=x onerror=alert(2)> [click](javascript:alert(3)) <JaVaScRiPt:alert(4)>

<|ref|>text<|/ref|><|det|>[[60, 120, 480, 200]]<|/det|>
<!-- page 99 -->

<|ref|>table<|/ref|><|det|>[[60, 220, 480, 400]]<|/det|>
<table><tr><td colspan="2" onclick="steal()">a &lt; b</td></tr></table>{END_OF_SENTENCE}"""

# what a renderer would run or follow (escaped text such as `&lt;javascript:...&gt;` is inert)
DANGEROUS = re.compile(
    r"<script|onerror|onclick|<img|\]\(\s*javascript:|href=\W*javascript:|<\s*javascript:", re.IGNORECASE
)


def test_scripts_handlers_and_dangerous_links_are_removed() -> None:
    text = safe_markdown(
        '<p onmouseover="x()">hi</p><script>alert(1)</script>\n\n'
        '<a href="javascript:alert(1)">a</a> [b](  javascript:alert(2)) ![c](data:text/html,x)'
    )
    assert not DANGEROUS.search(text), text
    assert "data:" not in text
    assert "<p>hi</p>" in text


def test_tables_formatting_and_plain_markdown_are_kept() -> None:
    table = '<table><tr><td colspan="2">x<sub>2</sub></td></tr></table>'
    text = safe_markdown(f"# Title\n\nA < B and $a<b$ [ok](https://example.com)\n\n{table}")
    assert text.startswith("# Title\n\nA < B and $a<b$ [ok](https://example.com)\n\n")
    assert '<td colspan="2">x<sub>2</sub></td>' in text


def test_page_marker_look_alikes_are_escaped_and_it_is_idempotent() -> None:
    text = safe_markdown("before\n\n<!-- page 3 -->\n\n<!--PAGE 4-->after")
    assert "<!--" not in text
    assert "&lt;!-- page 3 -->" in text
    assert safe_markdown(text) == text


@pytest.fixture
def replaying_stack(embedded_stack: Stack, tmp_path: Path) -> Stack:
    replay = tmp_path / "replay"
    replay.mkdir()
    (replay / "page.txt").write_text(HOSTILE_OUTPUT, encoding="utf-8")
    embedded_stack.start_worker(engine="replay", replay_dir=replay)
    return embedded_stack


@pytest.mark.slow
def test_full_md_from_hostile_model_output_is_safe_and_served_with_strict_headers(
    replaying_stack: Stack, tmp_path: Path
) -> None:
    stack = replaying_stack
    pdf = tmp_path / "two.pdf"
    pdf.write_bytes(text_pdf(["first page", "second page"]))
    task = stack.submit_file(pdf, dpi=72)
    done = stack.wait_task(task["id"])
    assert done["status"] == "succeeded", done

    result = stack.api.get(f"/v1/tasks/{task['id']}/result.md")
    markdown = result.text
    assert not DANGEROUS.search(markdown), markdown
    assert re.findall(r"<!-- page (\d+) -->", markdown) == ["1", "2"], "only the real page markers"
    assert markdown.count("&lt;!-- page 99 -->") == 2
    assert '<td colspan="2">a &lt; b</td>' in markdown, "the table survives"
    assert result.headers["x-content-type-options"] == "nosniff"
    assert result.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in result.headers["content-security-policy"]
    assert "sandbox" in result.headers["content-security-policy"]

    layout = stack.api.get(f"/v1/tasks/{task['id']}/result.json")
    assert layout.headers["x-frame-options"] == "DENY"
    assert layout.headers["x-content-type-options"] == "nosniff"

    ops = stack.api.get("/ops")
    assert ops.status_code == 200
    policy = ops.headers["content-security-policy"]
    assert "script-src 'sha256-" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert ops.headers["x-frame-options"] == "DENY"
    # any other answer is at least never sniffed
    assert stack.api.get("/healthz").headers["x-content-type-options"] == "nosniff"
