"""The README tells the truth about the CLI.

* every command in the README's Commands table exists in ``yibao --help``
  (and its groups' help), and every command there is in the table;
* every option the table shows for a command is one of that command's options;
* every command's ``--help`` shows an ``Example:`` and each example parses
  (command names, options and their values), like the ``yibao`` lines of the
  README's code blocks.
"""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pipeline.cli import main

from .conftest import ROOT

README = (ROOT / "README.md").read_text("utf-8")
Path_ = tuple[str, ...]


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def readme_commands() -> dict[Path_, list[str]]:
    """Command path → the usages the Commands table shows for it."""
    found: dict[Path_, list[str]] = {}
    for line in _section("Commands").splitlines():
        if not line.startswith("| `yibao"):
            continue
        first_cell = re.split(r"(?<!\\)\|", line)[1].replace("\\|", "|")
        for usage in re.findall(r"`(yibao [^`]*)`", first_cell):
            found.setdefault(command_path(usage.split()[1:]), []).append(usage)
    return found


def command_path(words: list[str]) -> Path_:
    """The subcommand names at the start of ``words`` (after ``yibao``), walking the real click tree."""
    path: list[str] = []
    cmd: click.Command = main
    for word in words:
        if not isinstance(cmd, click.Group) or word not in cmd.commands:
            break
        path.append(word)
        cmd = cmd.commands[word]
    return tuple(path)


def help_commands(help_text: str) -> list[str]:
    block = help_text.split("\nCommands:\n", 1)
    if len(block) == 1:
        return []
    return [m.group(1) for m in re.finditer(r"^  (\S+)", block[1], re.M)]


def _yibao_help(*path: str) -> str:
    result = CliRunner().invoke(main, [*path, "--help"], prog_name="yibao")
    assert result.exit_code == 0, result.output
    return result.output


def cli_commands() -> list[Path_]:
    """Every leaf command, read from the help screens: ``yibao --help`` from the real console script."""
    script = Path(sys.executable).with_name("yibao")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "pipeline.cli"]
    top = subprocess.run([*argv, "--help"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert top.returncode == 0, top.stderr
    leaves: list[Path_] = []
    for name in help_commands(top.stdout):
        subs = help_commands(_yibao_help(name))
        leaves += [(name, sub) for sub in subs] if subs else [(name,)]
    return leaves


def test_the_readme_lists_exactly_the_commands_of_yibao_help():
    documented, actual = set(readme_commands()), set(cli_commands())
    assert documented - actual == set(), "in the README but not in yibao --help"
    assert actual - documented == set(), "in yibao --help but not in the README's Commands table"


def _command(path: Path_) -> click.Command:
    cmd: click.Command = main
    for name in path:
        assert isinstance(cmd, click.Group)
        cmd = cmd.commands[name]
    return cmd


def _options(cmd: click.Command) -> set[str]:
    return {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts) if opt.startswith("-")}


@pytest.mark.parametrize("path, usages", sorted(readme_commands().items()), ids=lambda v: " ".join(v)
                         if isinstance(v, tuple) else None)
def test_the_options_the_readme_shows_exist(path, usages):
    known = _options(_command(path)) | _options(main)
    for usage in usages:
        shown = set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", usage))
        assert shown - known == set(), f"`{usage}`: no such option"


def _all_paths() -> list[Path_]:
    paths: list[Path_] = [()]
    for name, cmd in main.commands.items():
        paths.append((name,))
        if isinstance(cmd, click.Group):
            paths += [(name, sub) for sub in cmd.commands]
    return paths


def examples(help_text: str) -> list[str]:
    match = re.search(r"^ *Example:\n((?: {4,}\S.*\n?)+)", help_text, re.M)
    return [line.strip() for line in match.group(1).splitlines()] if match else []


def parse_example(line: str) -> Path_:
    """Parse one ``yibao …`` line with the real CLI's parser, without running it; raise on any error.

    Returns the path of the command it names.
    """
    words = shlex.split(line)
    assert words[0] == "yibao", line
    cmd: click.Command = main
    parent: click.Context | None = None
    rest, name, path = words[1:], "yibao", []
    while isinstance(cmd, click.Group):
        takes_value = {o for p in cmd.params if isinstance(p, click.Option) and not p.is_flag and not p.count
                       for o in p.opts}
        i = 0
        while i < len(rest) and rest[i].startswith("-"):
            i += 2 if rest[i] in takes_value else 1
        # a group parses only its own options here; with none, a bare context (a group given no
        # arguments at all would stop to show its help)
        parent = cmd.make_context(name, rest[:i], parent=parent) if i else click.Context(cmd, parent, name)
        if i == len(rest):
            return tuple(path)  # the group alone, e.g. `yibao --help`
        name, sub, rest = cmd.resolve_command(parent, rest[i:])
        assert sub is not None and name is not None, line
        cmd = sub
        path.append(name)
    cmd.make_context(name, rest, parent=parent)
    return tuple(path)


@pytest.mark.parametrize("path", _all_paths(), ids=lambda p: "yibao " + " ".join(p))
def test_every_command_help_shows_an_example_that_parses(path):
    text = _yibao_help(*path)
    found = examples(text)
    assert found, f"`yibao {' '.join(path)} --help` shows no Example: block"
    for line in found:
        assert line.startswith("yibao"), f"{line!r}: an example is a yibao command line"
        named = parse_example(line)
        assert named[:len(path)] == path, f"{line!r} is not an example of `yibao {' '.join(path)}`"


def test_the_readme_code_examples_parse():
    lines = [line for block in re.findall(r"```sh\n(.*?)```", README, re.S) for line in block.splitlines()
             if line.startswith("yibao ")]
    assert lines, "the README shows yibao command lines"
    for line in lines:
        parse_example(line)


def test_parse_example_catches_what_would_fail():
    for bad in ("yibao export --what everything -o x.csv", "yibao report --sinse 2025-01-01 -o r.html",
                "yibao exports -o x.csv", "yibao report -o r.html --since 2025-13-01"):
        with pytest.raises((click.UsageError, click.BadParameter)):
            parse_example(bad)
