"""OCR engines behind one protocol (`base.Engine`). Engines are imported lazily by name, so a
CPU worker never imports vLLM or torch."""
