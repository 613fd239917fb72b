"""One place for settings: every OQC_* variable declared in ``oqc_provider.settings``, read through it,
documented from it, and cleared for every test by ``tests/isolation.py``."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

from oqc_provider import settings
from oqc_provider.engine.progress import progress_enabled
from oqc_provider.errors import OqcProviderError
from oqc_provider.qcaas.client import ServerMode
from oqc_provider.qcaas.errors import ConfigurationError
from oqc_provider.qcaas.retry import RetryPolicy
from tests import isolation

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "oqc_provider"
OQC_NAME = re.compile(r"\bOQC_[A-Z0-9_]+\b")


def _environment_reads(tree: ast.AST) -> list[int]:
    """Lines of ``os.environ.get(...)``, ``os.environ[...]`` (read or write) and ``os.getenv(...)``."""

    def is_environ(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "environ"
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        )

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and is_environ(node.value):
            lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, owner = node.func.attr, node.func.value
            environ_method = method in ("get", "setdefault", "pop") and is_environ(owner)
            if environ_method or (method == "getenv" and isinstance(owner, ast.Name)):
                lines.append(node.lineno)
    return lines


def test_no_module_but_settings_reads_the_environment() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "settings.py":
            continue
        for line in _environment_reads(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert not offenders, f"Read OQC_* variables through oqc_provider.settings, not os.environ: {offenders}"


def test_every_oqc_variable_the_package_names_is_declared() -> None:
    """Every OQC_* name in the package's code and docstrings is a declared setting (none made up)."""
    named: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for name in OQC_NAME.findall(path.read_text(encoding="utf-8")):
            named.setdefault(name, str(path.relative_to(ROOT)))
    undeclared = {name: where for name, where in named.items() if name not in settings.NAMES}
    assert not undeclared, f"OQC_* names not declared in oqc_provider/settings.py: {undeclared}"


def test_the_docs_table_is_the_settings_table() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert settings.markdown_table() in page, (
        "docs/configuration.md's table of variables differs from oqc_provider.settings: paste the output "
        "of `python -m oqc_provider.settings` over it"
    )
    documented = set(re.findall(r"^\| `(OQC_[A-Z0-9_]+)` \|", page, flags=re.MULTILINE))
    assert documented == set(settings.NAMES)


def test_the_isolation_plugin_clears_exactly_the_declared_settings() -> None:
    assert isolation.OQC_ENVIRONMENT is settings.NAMES
    assert len(set(settings.NAMES)) == len(settings.NAMES) == len(settings.SETTINGS)
    assert all(name.startswith("OQC_") for name in settings.NAMES)
    for name in settings.NAMES:
        if name != settings.PROVIDER_HOME.name:
            assert name not in os.environ, name


def test_test_hooks_are_marked() -> None:
    hooks = {s.name for s in settings.SETTINGS if s.test_hook}
    assert hooks == {
        "OQC_EMULATOR_TEST_CRASH_MARKER",
        "OQC_EMULATOR_TEST_EXECUTION_LOG",
        "OQC_EMULATOR_TEST_HANG_MARKER",
        "OQC_EMULATOR_TEST_DIE_STARTING",
    }
    assert all(s.doc.startswith("TEST HOOK") == s.test_hook for s in settings.SETTINGS)


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        (settings.MAX_BROADCAST_JOBS, "abc", "whole number"),
        (settings.MAX_BROADCAST_JOBS, "0", "at least 1"),
        (settings.MAX_TRANSPORT_RETRIES, "2.5", "whole number"),
        (settings.EMULATOR_WORKERS, "-1", "at least 1"),
        (settings.QCAAS_V4, "maybe", "1/true/yes/on or 0/false/no/off"),
        (settings.PROGRESS, "sometimes", "1/true/yes/on or 0/false/no/off"),
    ],
)
def test_a_malformed_value_is_a_configuration_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, setting: settings.Setting[object], value: str, expected: str
) -> None:
    monkeypatch.setenv(setting.name, value)
    with pytest.raises(ConfigurationError) as caught:
        setting.read()
    assert isinstance(caught.value, OqcProviderError)
    message = str(caught.value)
    assert message.startswith(f"{setting.name} ") and message.endswith(f", got {value!r}.")
    assert expected in message


def test_values_are_read_when_asked_not_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    assert RetryPolicy.from_env().max_attempts == settings.MAX_TRANSPORT_RETRIES.default == 5
    monkeypatch.setenv("OQC_SDK_MAX_TRANSPORT_RETRIES", " 3 ")
    assert RetryPolicy.from_env().max_attempts == 3
    assert ServerMode.from_env() is ServerMode.LEGACY
    monkeypatch.setenv("OQC_ENTRA_ENABLED", "on")
    assert ServerMode.from_env() is ServerMode.V4
    monkeypatch.setenv("OQC_PROVIDER_PROGRESS", "off")
    assert progress_enabled() is False
    monkeypatch.setenv("OQC_PROVIDER_PROGRESS", "")
    assert settings.PROGRESS.read() is None  # blank: the terminal decides


def test_resolve_connection_reads_every_setting_from_the_environ_it_is_given() -> None:
    from oqc_provider.connection import resolve_connection

    chosen = resolve_connection(
        environ={
            "OQC_URL": "http://127.0.0.1:8000",
            "OQC_QCAAS_V4": "yes",
            "OQC_SDK_MAX_TRANSPORT_RETRIES": "2",
            "OQC_AUTHENTICATION_TOKEN": "t",
        }
    )
    assert (chosen.url, chosen.token, chosen.mode, chosen.retry.max_attempts) == (
        "http://127.0.0.1:8000",
        "t",
        ServerMode.V4,
        2,
    )
    assert resolve_connection("http://127.0.0.1:8000", environ={}).mode is ServerMode.LEGACY


def test_the_front_ends_report_a_malformed_setting_before_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    from oqc_provider.qiskit import OQCProvider

    monkeypatch.setenv("OQC_SDK_MAX_TRANSPORT_RETRIES", "many")
    with pytest.raises(ConfigurationError, match="OQC_SDK_MAX_TRANSPORT_RETRIES must be a whole number"):
        OQCProvider()


def test_a_secret_is_never_shown_in_the_error() -> None:
    token_like = settings.Setting("OQC_TEST_TOKEN", "whole number", 0, "0", "doc", settings._positive_int)
    with pytest.raises(ConfigurationError) as caught:
        token_like.read({"OQC_TEST_TOKEN": "s3cret"})
    assert "s3cret" not in str(caught.value)
