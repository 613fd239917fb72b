"""What a Qiskit backend and job use of their provider, named below both of them.

:class:`~oqc_provider.qiskit.provider.OQCProvider` makes backends, a backend makes jobs, and a job
loaded from a file asks a provider for its backend: with this protocol the backend and the job name
what they need of a provider without importing the module that makes them (no import circle).

Example:
    >>> from oqc_provider.qiskit import OQCProvider
    >>> provider: ProviderServices = OQCProvider()
    >>> provider.get_backend("Lucy Simulator").qpu_id
    'qpu:uk:2:d865b5a184'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from qiskit.providers import BackendV2

    from oqc_provider.engine.store import JobStore
    from oqc_provider.session import ProviderSession


class ProviderServices(Protocol):
    """A provider as its backends and jobs see it: its session, its job store, its backends."""

    @property
    def session(self) -> ProviderSession:
        """The connection to QCaaS (or the emulator) its backends run on."""
        ...

    @property
    def job_store(self) -> JobStore:
        """Where its backends record jobs."""
        ...

    def get_backend(self, name: str) -> BackendV2:
        """The backend of the QPU with this name or QPU id."""
        ...
