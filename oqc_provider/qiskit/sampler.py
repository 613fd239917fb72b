"""``OQCSamplerV2``: Qiskit's ``BackendSamplerV2`` for runs that may keep fewer shots than asked for.

With ``pre_selection`` or ``post_selection`` OQC's compiler drops the shots that fail them, so each
circuit returns its own number of kept shots. ``BackendSamplerV2`` allocates exactly the shots it
asked for and cannot hold fewer (NumPy's "could not broadcast" error). This sampler keeps the same
interface and results, but sizes each pub's ``BitArray`` by the shots kept: all of them for a pub of
one circuit; for a parameter sweep (one ``BitArray`` needs the same count in every entry) the first
``min(kept)`` shots of each circuit, which are as random a sample as any. The pub's metadata keeps
``shots`` (what the BitArray holds), ``shots_requested`` and ``shots_kept`` (per circuit).

Example:
    >>> from qiskit import QuantumCircuit, transpile
    >>> from oqc_provider import OQCProvider
    >>> lucy = OQCProvider().get_backend("Lucy")
    >>> bell = QuantumCircuit(2, 2)
    >>> _ = bell.h(0)
    >>> _ = bell.cx(0, 1)
    >>> _ = bell.measure([0, 1], [0, 1])
    >>> sampler = OQCSamplerV2(backend=lucy, options={"run_options": {"pre_selection": True}})
    >>> pub = sampler.run([transpile(bell, lucy)], shots=1000).result()[0]
    >>> pub.data.c.num_shots == pub.metadata["shots"] < pub.metadata["shots_requested"] == 1000
    True
"""

from __future__ import annotations

from typing import Any

from qiskit.primitives import BackendSamplerV2
from qiskit.primitives.containers import SamplerPubResult


class OQCSamplerV2(BackendSamplerV2):
    """``BackendSamplerV2`` whose results hold the shots pre- or post-selection kept."""

    def _postprocess_pub(  # type: ignore[override]
        self,
        result_memory: list[list[str]],
        shots: int,
        shape: tuple[int, ...],
        meas_info: list[Any],
        max_num_bytes: int,
        circuit_metadata: dict[str, Any],
        meas_level: int | None,
    ) -> SamplerPubResult:
        kept = [len(memory) for memory in result_memory]
        common = min(kept, default=shots)
        if common == shots and all(count == shots for count in kept):
            return super()._postprocess_pub(
                result_memory, shots, shape, meas_info, max_num_bytes, circuit_metadata, meas_level
            )
        trimmed = [memory[:common] for memory in result_memory]
        result = super()._postprocess_pub(
            trimmed, common, shape, meas_info, max_num_bytes, circuit_metadata, meas_level
        )
        result.metadata.update(shots_requested=shots, shots_kept=kept)
        return result


__all__ = ["OQCSamplerV2"]
