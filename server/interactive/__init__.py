"""Interactive OCR: `POST /v1/ocr`, which submits a task and waits for (or streams) its result,
and the pieces the OpenAI-compatible chat completions share with it."""
