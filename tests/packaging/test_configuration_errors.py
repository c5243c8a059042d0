"""An operator's mistake in a setting or a data file is one line naming it, exit 2, no traceback."""

import shutil
from pathlib import Path

import pytest

from cds_service.cli import main
from cds_service.config import REPO_ROOT


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.err


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("HER2_CDS_PORT", "70000", "HER2_CDS_PORT: Input should be less than or equal to 65535 (got '70000')"),
        ("HER2_CDS_PORT", "eighty", "HER2_CDS_PORT: Input should be a valid integer"),
        ("HER2_CDS_LANGUAGE", "fr", "HER2_CDS_LANGUAGE: Input should be 'en' or 'zh-CN' (got 'fr')"),
        ("HER2_CDS_HOOK_DEADLINE_SECONDS", "0", "HER2_CDS_HOOK_DEADLINE_SECONDS: Input should be greater than 0"),
        ("HER2_CDS_JURISDICTION", "UK", "HER2_CDS_JURISDICTION: Input should be 'CN', 'US' or 'EU' (got 'UK')"),
        ("HER2_CDS_FHIR_SERVER_ALIASES", "no-equals-sign", "HER2_CDS_FHIR_SERVER_ALIASES: Value error, expected"),
        ("HER2_CDS_ALLOW_INSECURE", "perhaps", "HER2_CDS_ALLOW_INSECURE: Input should be a valid boolean"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    code, err = _run(capsys, "serve")
    assert code == 2
    assert err.startswith("her2-cds: configuration error: ") and expected in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_every_bad_setting_is_named_on_the_same_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HER2_CDS_PORT", "-1")
    monkeypatch.setenv("HER2_CDS_LOG_FORMAT", "xml")
    code, err = _run(capsys, "check-data")
    assert code == 2 and err.count("\n") == 1
    assert "HER2_CDS_PORT:" in err and "HER2_CDS_LOG_FORMAT:" in err


def test_a_refused_value_that_may_hold_a_password_is_not_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from cds_service.config import Settings
    from cds_service.settings_errors import describe_settings_error

    with pytest.raises(ValidationError) as caught:
        Settings(database_url=["postgresql://u:hunter2@db/x"])  # type: ignore[arg-type]
    line = describe_settings_error(caught.value)
    assert line.startswith("HER2_CDS_DATABASE_URL: ") and "hunter2" not in line


def test_a_bad_data_file_is_one_line_naming_the_file_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cards = tmp_path / "cards"
    shutil.copytree(REPO_ROOT / "cards", cards)
    adjuvant = cards / "adjuvant.yaml"
    text = adjuvant.read_text(encoding="utf-8")
    level = text.index("level: ")
    adjuvant.write_text(text[:level] + "level: Z" + text[text.index("\n", level) :], encoding="utf-8")
    monkeypatch.setenv("HER2_CDS_CARDS_DIR", str(cards))

    code, err = _run(capsys, "serve", "--port", "0")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"her2-cds: data file error: {adjuvant}: entries.0.level: ")


def test_a_missing_concept_map_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HER2_CDS_CONCEPT_MAPS", "/nonexistent/local.conceptmap.json")
    code, err = _run(capsys, "--version")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("her2-cds: data file error: /nonexistent/local.conceptmap.json: (file): cannot read")


def test_version_names_the_package_and_the_knowledge(capsys: pytest.CaptureFixture[str]) -> None:
    from cds_service import __version__
    from cds_service.clinical.engine import load_engine

    assert main(["--version"]) == 0
    label = load_engine(REPO_ROOT / "mappings", REPO_ROOT / "cards").version.label
    assert capsys.readouterr().out == f"her2-cds {__version__} (knowledge {label})\n"


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2 and "a command is required" in capsys.readouterr().err


def test_a_port_out_of_range_on_the_command_line_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", "70000"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "argument --port: a TCP port is 0 to 65535" in err and "Traceback" not in err


def test_an_unreachable_database_stops_serve_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before any worker starts: no start-up traceback, and never the password."""
    monkeypatch.setenv("HER2_CDS_DATABASE_URL", "postgresql+psycopg://cds:s3cret@127.0.0.1:1/cds")

    assert main(["serve", "--port", "0"]) == 2

    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("{")]  # the JSON log lines are the log's
    assert lines == ["her2-cds: database: unreachable or refused (OperationalError) (HER2_CDS_DATABASE_URL)"]
    assert "s3cret" not in err and "Traceback" not in err
