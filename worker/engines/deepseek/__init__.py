"""DeepSeek-OCR on vLLM. Nothing here is imported unless the worker runs `--engine deepseek`."""
