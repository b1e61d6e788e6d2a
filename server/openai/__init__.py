"""The OpenAI-compatible face of the platform: `POST /v1/chat/completions` and `GET /v1/models`,
readable by the official `openai` SDK, errors included."""
