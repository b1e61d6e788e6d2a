"""`ocrp`: run the platform (serve, worker, run) and use it (submit, status, fetch, backfill)."""

from __future__ import annotations

import click

from ocrp.commands import admin, assistant, backfill, batches, keys, postprocess, services, tasks, webhooks


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="ocrp")
def cli() -> None:
    """Asynchronous OCR platform: DeepSeek-OCR on vLLM, Tesseract on the CPU."""


for command in (
    *services.COMMANDS,
    *tasks.COMMANDS,
    *backfill.COMMANDS,
    *batches.COMMANDS,
    *keys.COMMANDS,
    *admin.COMMANDS,
    *postprocess.COMMANDS,
    *webhooks.COMMANDS,
    *assistant.COMMANDS,
):
    cli.add_command(command)

if __name__ == "__main__":
    cli()
