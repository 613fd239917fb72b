"""The emulator's registry publishes the prices it is given, in both server modes, and refuses bad ones."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from typer.testing import CliRunner

from oqc_provider.cli import app
from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.emulator.prices import parse_price_option
from oqc_provider.engine import OqcSdk
from tests.cost.conftest import LUCY, LUCY_SIM


@pytest.mark.parametrize("mode", ["legacy", "v4"])
async def test_the_registry_publishes_prices_and_nulls_in_both_modes(mode: str) -> None:
    app_ = create_app(EmulatorSettings(prices={"lucy simulator": ("0.5", "2"), LUCY: (None, "1")}))
    try:
        transport = httpx.ASGITransport(app=app_)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
            body = (await http.get("/admin/qpu" if mode == "legacy" else "/qpus")).json()
        items = {item["id"]: item for item in (body["items"] if mode == "legacy" else body)}
        assert (items[LUCY_SIM]["price_per_shot"], items[LUCY_SIM]["price_per_task"]) == ("0.5", "2")
        assert items[LUCY]["price_per_shot"] is None and items[LUCY]["price_per_task"] == "1"  # explicit null
        assert items["qpu:jp:3:673b1ad43c"]["price_per_shot"] == "0"  # not named: free
        sdk = OqcSdk(url="http://emulator", transport=transport, mode=mode, job_store=False)
        async with sdk:
            prices = await sdk.prices()
        assert prices[LUCY_SIM].task_cost(10) == Decimal("7.0")
        assert not prices[LUCY].published and prices[LUCY].task_cost(10) is None
    finally:
        app_.state.emulator.close()


def test_bad_prices_are_refused_with_what_to_write() -> None:
    with pytest.raises(ValueError, match="QPU=PER_SHOT,PER_TASK"):
        parse_price_option("Lucy:0.1,0.2")
    with pytest.raises(ValueError, match="PER_SHOT"):
        parse_price_option("Lucy=-1,0")
    with pytest.raises(ValueError, match="Known QPUs"):
        create_app(EmulatorSettings(prices={"Nowhere": ("1", "1")}))
    result = CliRunner().invoke(app, ["emulator", "serve", "--price", "Lucy=abc,1"])
    assert result.exit_code == 2 and "--price" in result.output
    result = CliRunner().invoke(app, ["emulator", "serve", "--price", "Nowhere=1,1"], env={"COLUMNS": "400"})
    assert result.exit_code == 2 and "Known QPUs" in result.output
