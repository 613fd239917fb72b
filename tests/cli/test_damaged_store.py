"""``oqc-provider jobs list`` and ``jobs show`` with damaged entries in the local job store.

A damaged entry is skipped with a warning naming its file, whatever the damage: broken JSON, a
field of the wrong type in the store's own record, a record that is not an object, JSON nested
deeper than any snapshot. The other jobs stay listed and shown.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from oqc_provider.engine import Job
from oqc_provider.engine.errors import JobStoreError
from oqc_provider.engine.store import JobStore

LUCY_SIM = "qpu:uk:2:d865b5a184"


def damaged_entries(good: dict) -> dict[str, str]:
    """File stem -> text of entries damaged in every way seen, each from a good snapshot."""
    store_record = good["annotations"]["store"]

    def with_record(record: object) -> str:
        return json.dumps({**good, "annotations": {**good["annotations"], "store": record}})

    nested = '{"deep": ' * 100_000 + "1" + "}" * 100_000
    return {
        "int-created": with_record({**store_record, "created": 1_700_000_000}),
        "list-store": with_record(["not", "an", "object"]),
        "bool-shots": with_record({**store_record, "shots": True}),
        "number-kind": with_record({**store_record, "kind": 7}),
        "deeply-nested": json.dumps({**good, "annotations": {}})[:-1] + ', "extra": ' + nested + "}",
        "broken-json": json.dumps(good)[:40],
    }


@pytest.fixture
def store_with_damage(_isolated_provider_home: Path) -> tuple[JobStore, list[str]]:
    store = JobStore()
    store.save("good", Job('OPENQASM 2.0; include "qelib1.inc";', LUCY_SIM), kind="engine", shots=10)
    good = json.loads(store.path_for("good").read_text())
    for stem, text in damaged_entries(good).items():
        (store.root / f"{stem}.json").write_text(text)
    return store, list(damaged_entries(good))


def test_listings_skip_every_damaged_entry_and_name_it(store_with_damage, cli, caplog) -> None:
    store, damaged = store_with_damage
    with caplog.at_level(logging.WARNING, logger="oqc_provider.engine"):
        assert [entry.job_id for entry in store.list()] == ["good"]
    for stem in damaged:
        assert str(store.root / f"{stem}.json") in caplog.text, stem
    assert [entry["job_id"] for entry in cli.json("jobs", "list")] == ["good"]
    table = cli("jobs", "list")
    assert table.exit_code == 0 and "good" in table.stdout, table.output
    shown = cli.json("jobs", "show", "good")
    assert shown["job_id"] == "good" and shown["shots"] == 10


def test_showing_a_damaged_entry_names_it(store_with_damage, cli) -> None:
    store, damaged = store_with_damage
    for stem in damaged:
        with pytest.raises(JobStoreError, match="damaged") as caught:
            store.read(stem)
        assert f"{stem}.json" in str(caught.value)
        shown = cli("jobs", "show", stem)
        assert shown.exit_code != 0 and "damaged" in shown.output and stem in shown.output, shown.output
        assert "Traceback" not in shown.output


@pytest.mark.slow
def test_a_damaged_emulator_database_is_named_and_hides_no_saved_result(
    _isolated_provider_home: Path, cli, qasm
) -> None:
    program = qasm(
        "x.qasm", 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nx q[0];\nmeasure q -> c;\n'
    )
    ran = subprocess.run(  # another process, as a user's earlier session
        [sys.executable, "-m", "oqc_provider.cli", "run", "--shots", "10", str(program)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    [entry] = cli.json("jobs", "list")
    database = _isolated_provider_home / "emulator.sqlite3"
    for path in (database, *database.parent.glob(database.name + "-*")):
        path.write_bytes(b"not an SQLite file at all " * 200)

    saved = cli.json("jobs", "result", entry["job_id"])
    assert saved["circuits"][0]["counts"]["c"] == {"1": 10}
    again = cli("run", "--shots", "10", str(program))
    assert again.exit_code != 0 and "Traceback" not in again.output
    assert str(database) in again.output and "damaged" in again.output, again.output
