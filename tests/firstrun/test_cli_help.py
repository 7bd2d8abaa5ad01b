"""CLI help in words, not Python types; a bad --status is an error, not "0 subscribers"."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.cli.help_format import plain_label

TYPES = re.compile(r"<(list\[|str>|int>|bool>|float>|Path>|%Y)")


@pytest.mark.parametrize(
    "command",
    [["import"], ["ingest", "arxiv"], ["ingest", "hf"], ["serve"], ["subscribers", "list"],
     ["search"], ["user", "create"], ["demo", "remove"]],
)
def test_help_has_no_python_types(command):
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert not TYPES.search(result.output), result.output


def test_labels():
    assert plain_label("<list[Path]>") == "PATH..."
    assert plain_label("<str>") == "TEXT"
    assert plain_label("<%Y-%m-%d>") == "YYYY-MM-DD"
    assert plain_label("<bool>") == ""
    assert plain_label("<a|b>") == "[a|b]"


def test_subscribers_list_refuses_an_unknown_status(monkeypatch, tmp_path, database_url):
    monkeypatch.setenv("PAPERWIRE_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["subscribers", "list", "--status", "bogus"])
    assert result.exit_code == 2 and "0 subscribers" not in result.output
    assert "bogus" in result.output and "active" in result.output
    ok = CliRunner().invoke(app, ["subscribers", "list", "--status", "active"])
    assert ok.exit_code == 0 and "0 subscribers" in ok.output
