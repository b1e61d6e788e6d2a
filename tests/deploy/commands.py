"""Check that a command line a deployment file runs is one the `ocrp` CLI accepts: the
subcommand exists and every option parses. Nothing is executed."""

from __future__ import annotations

import click

from ocrp.main import cli


def parse_ocrp(argv: list[str]) -> list[str]:
    """Parse `ocrp ...`; return the chain of command names, or raise click's usage error.

    Deployment files never pass options to the groups themselves, so the subcommand names come
    first and only the leaf command's options need parsing."""
    assert argv[:1] == ["ocrp"], f"not an ocrp command: {argv}"
    command: click.Command = cli
    args = list(argv[1:])
    names: list[str] = []
    parent = click.Context(cli, info_name="ocrp")
    while isinstance(command, click.Group):
        assert args, f"{' '.join(argv)}: a subcommand of {' '.join(['ocrp', *names])} is missing"
        sub = command.get_command(parent, args[0])
        assert sub is not None, f"unknown command {args[0]!r} in {argv}"
        names.append(args.pop(0))
        parent = click.Context(sub, info_name=names[-1], parent=parent)
        command = sub
    command.make_context(names[-1], args, parent=parent.parent)
    return names
