"""Administrative commands: database migrations, configuration docs, the layout schema."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (PostgreSQL or SQLite)."""
    from shared.config import get_settings
    from shared.db.migrate import upgrade

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}")


@db.command("current")
def db_current() -> None:
    """Print the applied migration revision."""
    from shared.config import get_settings
    from shared.db.migrate import current_heads

    click.echo(", ".join(sorted(current_heads(get_settings().database_url))) or "(none)")


@click.group()
def config() -> None:
    """Settings."""


@config.command("docs")
@click.option("--env-example", is_flag=True, help="Print .env.example instead of the settings reference.")
@click.option(
    "--write",
    "root",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Write docs/configuration.md and .env.example under this checkout instead of printing.",
)
def config_docs(env_example: bool, root: Path | None) -> None:
    """Print the settings reference (docs/configuration.md) made from the settings class. In a
    checkout, `ocrp config docs --write .` regenerates both files."""
    from shared.config_docs import configuration_markdown
    from shared.config_docs import env_example as make_env_example

    if root is None:
        click.echo(make_env_example() if env_example else configuration_markdown(), nl=False)
        return
    if not (root / "pyproject.toml").is_file():
        raise click.ClickException(f"{root} is not an ocrp checkout (no pyproject.toml): nothing written")
    (root / "docs").mkdir(exist_ok=True)
    (root / "docs" / "configuration.md").write_text(configuration_markdown())
    (root / ".env.example").write_text(make_env_example())
    click.echo(f"wrote {root / 'docs' / 'configuration.md'} and {root / '.env.example'}")


@config.command("show")
def config_show() -> None:
    """Print the effective settings (secrets and the passwords inside URLs masked)."""
    from shared.config import get_settings
    from shared.config.masking import shown_value

    for name, value in get_settings().model_dump().items():
        click.echo(f"OCR_{name.upper()}={shown_value(name, value)}")


@click.command()
def schema() -> None:
    """Print the JSON Schema of layout.json."""
    from shared.layout.schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


COMMANDS = [db, config, schema]
