"""`drawdown --help` and every command's --help: examples that parse, real settings."""

from __future__ import annotations

import argparse
import re
import shlex

import pytest

from services import cli
from services.cli_args import parser
from services.settings import Settings


def _commands() -> list[str]:
    (action,) = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return list(action.choices)


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        cli.main([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def _examples(text: str) -> list[str]:
    block = text.split("examples:\n", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip()]


def _check_example(example: str) -> None:
    """Each example names real settings and parses as a drawdown command line."""
    words = shlex.split(example, comments=True)
    while words and "=" in words[0]:
        name = words.pop(0).split("=", 1)[0]
        assert name.startswith("DRAWDOWN_"), example
        assert name.removeprefix("DRAWDOWN_").lower() in Settings.model_fields, example
    assert words[0] == "drawdown", example
    parser().parse_args(words[1:])


def _check_settings(text: str) -> None:
    named = re.findall(r"DRAWDOWN_[A-Z_]+[A-Z](?![A-Z_]*\*)", text)
    assert named
    for name in named:
        assert name.removeprefix("DRAWDOWN_").lower() in Settings.model_fields, name


def test_top_level_help_lists_every_command_with_examples(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = _help(capsys)
    for command in _commands():
        assert re.search(rf"^    {command}\b", text, re.MULTILINE), command
    examples = _examples(text)
    assert len(examples) >= 3
    for example in examples:
        _check_example(example)


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_working_examples_and_names_its_settings(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    text = _help(capsys, command)
    assert f"usage: drawdown {command}" in text
    examples = _examples(text)
    assert examples, f"drawdown {command} --help shows no examples"
    for example in examples:
        assert f"drawdown {command}" in example
        _check_example(example)
    settings = text.split("\nsettings: ", 1)[1]
    _check_settings(settings)
    assert "DRAWDOWN_LOG_LEVEL" in settings
