"""Every ``kehoach`` command the README shows exists in the CLI, with the options shown for it."""

from __future__ import annotations

import re
from pathlib import Path

from flows.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"
# `kehoach CMD`, `.venv/bin/kehoach CMD`, `$(BIN)/kehoach CMD`; not `kehoach/` (a folder) or `kehoach-…` (a name)
COMMAND = re.compile(r"(?:^|[\s`(])(?:[\w.$()/-]*/)?kehoach +([a-z][a-z-]*)(.*)$")


def code_lines(text: str) -> list[str]:
    """The lines of the README's fenced code blocks and its inline code spans."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    outside = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    return [line for block in blocks for line in block.splitlines()] + re.findall(r"`([^`\n]+)`", outside)


def shown_commands(text: str) -> list[tuple[str, list[str]]]:
    found = []
    for line in code_lines(text):
        match = COMMAND.search(line)
        if match:
            rest = re.split(r"\s#|\s\|\s", match.group(2))[0]  # not a comment, not the next command of a pipe
            found.append((match.group(1), re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest)))
    return found


def subcommands() -> dict[str, set[str]]:
    parser = build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices
    return {name: {o for a in sub._actions for o in a.option_strings} for name, sub in choices.items()}


def test_every_command_the_readme_shows_exists_with_its_options():
    shown = shown_commands(README.read_text(encoding="utf-8"))
    known = subcommands()
    assert {"build", "refresh", "publish", "inspect", "validate"} <= {c for c, _ in shown}
    for command, options in shown:
        assert command in known, f"the README shows `kehoach {command}`, which the CLI does not have"
        assert set(options) <= known[command], (command, set(options) - known[command])


def test_the_check_finds_a_command_or_an_option_the_cli_does_not_have():
    text = "```sh\n.venv/bin/kehoach frobnicate raw/\nkehoach build --fast\n```\nand `kehoach/core/` is a folder\n"
    shown = shown_commands(text)
    assert shown == [("frobnicate", []), ("build", ["--fast"])]
    known = subcommands()
    assert "frobnicate" not in known and "--fast" not in known["build"]
