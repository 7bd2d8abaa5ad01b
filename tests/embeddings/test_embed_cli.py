from typer.testing import CliRunner

from paperwire.cli import app
from tests.embeddings.conftest import add_papers


def run(monkeypatch, settings, *args):
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "default")
    return CliRunner().invoke(app, ["embed", *args])


def test_embed_command_is_resumable_and_reports(monkeypatch, container, shared_papers):
    add_papers(container.engine, shared_papers[:8])
    result = run(monkeypatch, container.settings, "--limit", "3", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert "embedded 3 papers" in result.output
    assert "3 of 8 papers have embeddings" in result.output
    result = run(monkeypatch, container.settings)
    assert result.exit_code == 0, result.output
    assert "embedded 5 papers" in result.output
    assert "8 of 8 papers have embeddings" in result.output


def test_embed_command_errors_are_one_line(monkeypatch, container):
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", container.settings.database_url)
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(container.settings.data_dir))
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "none")
    result = CliRunner().invoke(app, ["embed"])
    assert result.exit_code == 1
    assert "switched off" in result.output
    result = run(monkeypatch, container.settings, "--batch-size", "0")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
