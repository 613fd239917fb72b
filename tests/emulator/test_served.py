"""The emulator served on a loopback port (uvicorn in a thread): restarts, noise, both modes."""

from __future__ import annotations

import httpx
import pytest

from oqc_provider.devices import CATALOGUE
from oqc_provider.emulator import EmulatorSettings, serve_in_thread
from tests.emulator.emulator_helpers import BELL, LUCY_SIM, TOSHIKO, Api, bell_on, config


async def test_served_emulator_answers_both_modes_with_its_own_urls():
    with serve_in_thread(EmulatorSettings(required_token="tok")) as url:
        assert url.startswith("http://127.0.0.1:")
        headers = {"Authentication-Token": "tok"}
        async with httpx.AsyncClient(base_url=url, headers=headers) as client:
            items = (await client.get("/admin/qpu", params={"per_page": 1000})).json()["items"]
            lucy = next(item for item in items if item["id"] == LUCY_SIM)
            assert lucy["url"] == f"{url}/d865b5a184"
            assert (await client.get("/healthz")).json()["version"].startswith("4.")
            info = await Api(client).run(BELL, cfg=config(shots=100))
            assert info["status"] == "COMPLETED" and sum(info["results"]["c"].values()) == 100


@pytest.mark.slow
async def test_restart_on_the_same_db_answers_old_tasks_and_finishes_queued_ones(tmp_path):
    db = tmp_path / "emulator.sqlite3"
    with serve_in_thread(EmulatorSettings(db_path=db, latency=0.0)) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            done = await Api(client).run(BELL, cfg=config(shots=64))
    with serve_in_thread(EmulatorSettings(db_path=db, latency=60.0)) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            queued = await Api(client).submit(BELL, cfg=config(shots=32))
            assert (await Api(client).info(queued))["status"] == "SUBMITTED"
    with serve_in_thread(EmulatorSettings(db_path=db)) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            api = Api(client)
            old = await api.info(done["id"])
            assert old["status"] == "COMPLETED" and old["results"] == done["results"]
            finished = await api.wait(queued)
            assert finished["status"] == "COMPLETED" and sum(finished["results"]["c"].values()) == 32
            v4 = await Api(client, legacy=False).info(done["id"])
            assert v4["results"] == done["results"]


@pytest.mark.slow
async def test_noisy_toshiko_bell_pair_shows_errors(make_api):
    api = await make_api()
    control, target = CATALOGUE[TOSHIKO].couplings[0]
    program = bell_on(control, target, max(control, target) + 1)
    info = await api.run(program, qpu_id=TOSHIKO, cfg=config(shots=4000), seed=11)
    assert info["status"] == "COMPLETED", info["task_error"]
    counts = info["results"]["c"]
    wrong = counts.get("01", 0) + counts.get("10", 0)
    assert sum(counts.values()) == 4000
    assert 0 < wrong < 800  # a few percent of readout and gate error, not a broken circuit
    assert counts.get("00", 0) > 1200 and counts.get("11", 0) > 1200
