"""`ocrp mcp`: serve the platform's tools to AI assistants (Model Context Protocol)."""

from __future__ import annotations

import click

from ocrp.commands.connect import api_option, key_option
from ocrp.sdk.connection import api_key, base_url


@click.command("mcp")
@click.option("--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="With --transport http.")
@click.option("--port", type=int, default=8765, show_default=True, help="With --transport http.")
@api_option
@key_option
def mcp(transport: str, host: str, port: int, api: str | None, key: str | None) -> None:
    """An MCP server of OCR tools. stdio: for an assistant on this machine (acts with
    OCR_API_KEY). http: streamable HTTP at http://HOST:PORT/mcp, each client sending its own
    ocrp API key as `Authorization: Bearer`."""
    from ocrp.mcp_server import build_server

    url = base_url(api)
    if transport == "stdio":
        build_server(url, api_key(key), http=False).run("stdio")
        return
    public = f"http://{host}:{port}/mcp"
    build_server(url, None, http=True, public_url=public).run("streamable-http", host=host, port=port)


COMMANDS = [mcp]
