"""Every entry point accepts one ``Connection`` (``connection=``) in place of the seven connection keywords.

The emulator here requires a token, so a request only succeeds when the connection's token and transport
were the ones used; a keyword that disagrees with the connection is refused before anything is sent.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from qiskit import QuantumCircuit

from oqc_provider.connection import Connection, resolve_connection
from oqc_provider.emulator import EmulatorSettings, create_app
from oqc_provider.engine import OqcSdk, SyncSdk
from oqc_provider.qcaas.errors import AuthenticationError, ConfigurationError
from oqc_provider.qcaas.retry import RetryPolicy
from oqc_provider.qiskit import OQCProvider
from oqc_provider.session import ProviderSession

TOKEN = "connection-test-token-4f1c"
LUCY_SIM = "qpu:uk:2:d865b5a184"


@pytest.fixture
def connection() -> Connection:
    """A connection into an emulator of its own that refuses any other token."""
    app = create_app(EmulatorSettings(required_token=TOKEN, seed=7))
    return resolve_connection(
        token=TOKEN, transport=httpx.ASGITransport(app=app), retry=RetryPolicy(max_attempts=1), environ={}
    )


def test_the_qiskit_provider_runs_through_the_connection_it_is_given(connection: Connection) -> None:
    with OQCProvider(connection=connection) as provider:
        assert provider.session.sdk.connection is connection
        circuit = QuantumCircuit(1, 1)
        circuit.x(0)
        circuit.measure(0, 0)
        counts = provider.get_backend("Lucy Simulator").run(circuit, shots=50).result().get_counts()
    assert counts == {"1": 50}


def test_the_pytket_backend_runs_through_the_connection_it_is_given(connection: Connection) -> None:
    from pytket import Circuit

    from oqc_provider.pytket import OQCTketBackend

    backend = OQCTketBackend("Lucy Simulator", connection=connection)
    try:
        circuit = backend.get_compiled_circuit(Circuit(1, 1).X(0).measure_all())
        assert backend.run_circuit(circuit, n_shots=20).get_counts() == {(1,): 20}
    finally:
        backend.close()


def test_the_engine_and_the_sessions_take_a_connection(connection: Connection) -> None:
    async def list_qpus() -> list[str]:
        async with OqcSdk(connection=connection, default_qpu_id=LUCY_SIM) as sdk:
            assert sdk.connection is connection
            return [qpu["id"] for qpu in await sdk.list_qpus()]

    assert LUCY_SIM in asyncio.run(list_qpus())
    sync = SyncSdk(connection=connection)
    try:
        assert LUCY_SIM in [qpu["id"] for qpu in sync.list_qpus()]
    finally:
        sync.close()
    session = ProviderSession(connection=connection)
    try:
        assert session.resolve("Lucy Simulator").qpu_id == LUCY_SIM
    finally:
        session.close()


def test_without_the_connection_the_same_emulator_refuses(connection: Connection) -> None:
    """The control: the keywords alone, with no token, reach the same app and are refused."""
    session = ProviderSession(transport=connection.transport, retry=RetryPolicy(max_attempts=1))
    try:
        with pytest.raises(AuthenticationError):
            session.qpus()
    finally:
        session.close()


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("url", "http://127.0.0.1:8000"),
        ("token", "another-secret-token"),
        ("transport", httpx.MockTransport(lambda request: httpx.Response(500))),
        ("mode", "v4"),
        ("timeout", 3.0),
        ("retry", RetryPolicy(max_attempts=2)),
        ("allow_insecure", True),
    ],
)
def test_a_keyword_that_disagrees_with_the_connection_is_refused(
    connection: Connection, keyword: str, value: object
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ProviderSession(connection=connection, **{keyword: value})
    message = str(caught.value)
    assert f"and {keyword}= says otherwise" in message and "pass either a Connection" in message
    assert TOKEN not in message and "another-secret-token" not in message


def test_keywords_that_agree_with_the_connection_are_accepted(connection: Connection) -> None:
    same = resolve_connection(
        connection=connection,
        token=TOKEN,
        transport=connection.transport,
        mode="legacy",
        retry=RetryPolicy(max_attempts=1),
    )
    assert same is connection
