"""The Qiskit :class:`~qiskit.transpiler.Target` of a QPU: the public entry point.

The builder itself lives in :mod:`oqc_provider.device_target`, so the emulator can build its noise
model from the very same Target without importing the Qiskit front end (one set of numbers,
three readers: this Target, pytket's BackendInfo and the emulator's noise).

Example:
    >>> from oqc_provider.devices import LUCY_SIMULATOR, reference_calibration
    >>> target = build_target(LUCY_SIMULATOR, reference_calibration(LUCY_SIMULATOR))
    >>> target.num_qubits, sorted(target.operation_names)
    (8, ['delay', 'ecr', 'measure', 'reset', 'rz', 'sx', 'x'])
    >>> target.instruction_supported("ecr", (0, 1)), target.instruction_supported("ecr", (1, 0))
    (True, False)
"""

from __future__ import annotations

from oqc_provider.device_target import build_target, qubit_properties

__all__ = ["build_target", "qubit_properties"]
