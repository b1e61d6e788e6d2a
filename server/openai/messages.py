"""Chat messages → the one document and the prompt of an OCR task. Pure.

OCR has no conversation: only the last `user` message is read, and earlier messages (system
prompts included) are ignored. That message must carry exactly one `image_url` part (a base64
`data:` URL, or an http(s) URL under the platform's SSRF rules). Its text parts, joined by
newlines, are the prompt:

- no text: the `document` preset (markdown with layout);
- text without `<image>`: `<image>` is put on a line before it (`Free OCR.` becomes
  `<image>\\nFree OCR.`), as DeepSeek-OCR's prompts are written;
- text with one `<image>`: taken as it is.

The prompt is then checked like any custom prompt (one `<image>`, at most 2,000 characters).
"""

from __future__ import annotations

from dataclasses import dataclass

from server.openai.schemas import ContentPart, Message
from shared.errors import InvalidRequest, OcrpError, Unprocessable
from shared.options import MAX_CUSTOM_PROMPT_CHARS, validate_custom_prompt

PLACEHOLDER = "<image>"


class ChatInputError(OcrpError):
    """A chat request ocrp cannot serve, naming the member at fault (OpenAI's `param`)."""

    def __init__(self, error: OcrpError, param: str) -> None:
        super().__init__(error.message, error.code)
        self.status = error.status
        self.param = param


@dataclass(frozen=True)
class ChatInput:
    image_url: str
    image_param: str  # where the image is, for errors about it
    prompt: str | None  # a custom prompt holding one <image>; None: the default preset


def prompt_for(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    if PLACEHOLDER not in text:
        text = f"{PLACEHOLDER}\n{text}"
    try:
        return validate_custom_prompt(text)
    except Unprocessable:
        raise Unprocessable(
            f"the user message's text is the prompt (with '{PLACEHOLDER}' put before it when it has "
            f"none): it must hold one '{PLACEHOLDER}' and at most {MAX_CUSTOM_PROMPT_CHARS} characters; "
            f"it has {text.count(PLACEHOLDER)} and {len(text)}",
            "invalid_prompt",
        ) from None


def _parts(message: Message) -> list[ContentPart]:
    if message.content is None:
        return []
    if isinstance(message.content, str):
        return [ContentPart(type="text", text=message.content)]
    return message.content


def read_messages(messages: list[Message]) -> ChatInput:
    index = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
    if index is None:
        raise ChatInputError(InvalidRequest("no message has the role 'user'", "invalid_messages"), "messages")
    texts: list[str] = []
    images: list[tuple[str, str]] = []
    for number, part in enumerate(_parts(messages[index])):
        where = f"messages[{index}].content[{number}]"
        if part.type == "text":
            texts.append(part.text or "")
        elif part.type == "image_url" and part.image_url is not None:
            images.append((part.image_url.url, f"{where}.image_url.url"))
        else:
            raise ChatInputError(
                InvalidRequest(
                    f"content parts of type {part.type!r} are not supported; send text and image_url parts",
                    "unsupported_content",
                ),
                f"{where}.type",
            )
    if len(images) != 1:
        found = "no image" if not images else f"{len(images)} images"
        raise ChatInputError(
            InvalidRequest(
                f"the last user message must carry exactly one image_url part (it has {found}); "
                "send one document per request",
                "image_required" if not images else "too_many_images",
            ),
            f"messages[{index}].content",
        )
    try:
        prompt = prompt_for("\n".join(t.strip() for t in texts if t.strip()))
    except OcrpError as exc:
        raise ChatInputError(exc, f"messages[{index}].content") from None
    url, param = images[0]
    return ChatInput(image_url=url, image_param=param, prompt=prompt)
