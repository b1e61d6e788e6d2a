"""The API and the CPU worker never import vLLM or torch (they load in seconds, on any machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHECK = """
import json, sys
import server.app
import worker.engines.tesseract
import worker.app, worker.tasks.process
import ocrp.main
print(json.dumps(sorted(m for m in ("vllm", "torch", "triton", "transformers") if m in sys.modules)))
"""


def test_server_and_cpu_worker_import_no_gpu_stack(tmp_path: object) -> None:
    env = {**os.environ, "OCR_ENGINE": "tesseract", "OCR_DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
