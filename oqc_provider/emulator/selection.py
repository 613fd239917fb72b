"""Pre-selection, post-selection and driven reset, as QAT 3.5's pipeline path defines them.

Recorded in ``tests/fixtures/qat/selection.json`` (``scripts/qat_fixtures/record_selection.py``;
the facts are in ``scripts/qat_fixtures/README.md``):

* **pre_selection**: QAT's ``InsertPreSelectionMeasurement`` measures every qubit the program uses
  at the start of each shot and drops the shots where one reads a state its hardware model
  disallows (``preselect_disallowed_states``, ``{1}`` by default). A qubit starts in 0, so only a
  readout error (or a hot qubit) fails it. The emulator does the same: it measures each used qubit
  first, into a hidden register, through the device's noise model, and keeps the shots where all
  read 0. On a noiseless device every shot is kept, as on QAT's models.
* **post_selection**: QAT drops the shots whose measurement its discriminator assigns to a
  *disallowed* (negative-key, e.g. leakage) state; only maximum-likelihood discriminators have
  such states. The emulator's qubits have two levels and threshold readout, like QAT's default
  models, so post-selection keeps every shot there too. QAT's legacy ``QuantumHardwareModel``
  refuses it (NotImplementedError); the emulator imitates the pipeline path's pydantic models.
* **driven_reset**: QAT builds DDROP reset pulses, and refuses every program on a model whose reset
  channels are not DDROP-calibrated (none of QAT's default models is): "Qubit ddrop not
  calibrated, please use passive reset." ``passive_reset_time`` changes timing only.

A shot dropped is dropped from every format: counts sum to the kept shots, ``raw()`` lists hold
one value per kept shot, and ``binary()`` averages the kept shots (no kept shot: each measured
bit reads 1, as QAT's average of nothing does).

Example:
    >>> from qiskit import QuantumCircuit
    >>> from oqc_provider.qcaas.compiler_config import CompilerConfig
    >>> config = CompilerConfig(repeats=4, pre_selection=True)
    >>> bell = QuantumCircuit(3, 2)
    >>> _ = bell.h(1)
    >>> _ = bell.measure([1, 2], [0, 1])
    >>> heralded = add_pre_selection(bell, (1, 2), config)
    >>> [register.name for register in heralded.cregs], heralded.data[0].name
    (['c', '_pre_selection'], 'measure')
    >>> kept_shots(config, heralded, {"0x1": 1, "0x4": 1}, ["0x1", "0x4"])
    ({'0x1': 1}, ['0x1'])
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from oqc_provider.devices import SHOT_SELECTION_DEFAULTS, DeviceSpec
from oqc_provider.qcaas.compiler_config import CompilerConfig

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

#: The hidden classical register the pre-selection measurements go into (last, above every
#: program bit, so the program's bit indices do not move).
HERALD_REGISTER = "_pre_selection"

#: QAT 3.5's message when driven reset meets a model without DDROP calibration.
QAT_DDROP_MESSAGE = "Qubit ddrop not calibrated, please use passive reset."


def accepts(spec: DeviceSpec, option: str) -> bool:
    """Whether the emulated ``spec`` accepts ``option`` (its catalogue entry, else QAT's default)."""
    stated = getattr(spec, option)
    return SHOT_SELECTION_DEFAULTS[option] if stated is None else bool(stated)


def selection_refusal(config: CompilerConfig, spec: DeviceSpec) -> str | None:
    """Why QAT's pipeline path would refuse ``config``'s selection options on ``spec``, or None."""
    if config.driven_reset and not accepts(spec, "driven_reset"):
        return (
            f"driven_reset needs DDROP-calibrated reset channels, which {spec.name} does not have "
            f"(QAT: {QAT_DDROP_MESSAGE}). Send driven_reset=False; passive_reset_time sets how long "
            "qubits idle between shots."
        )
    if config.post_selection and not accepts(spec, "post_selection"):
        return (
            f"post_selection is not supported by {spec.name}'s compiler model (QAT: post_selection is "
            "not supported for legacy QuantumHardwareModel programs). Send post_selection=False."
        )
    if config.pre_selection and not accepts(spec, "pre_selection"):
        return f"pre_selection is not supported by {spec.name}. Send pre_selection=False."
    return None


def needs_memory(config: CompilerConfig) -> bool:
    """Whether the task needs per-shot readouts from the simulator to drop shots."""
    return config.pre_selection


def add_pre_selection(
    circuit: QuantumCircuit, used_qubits: tuple[int, ...], config: CompilerConfig
) -> QuantumCircuit:
    """``circuit`` with a measurement of each used qubit first, into :data:`HERALD_REGISTER`.

    A new circuit: ``circuit`` itself may be cached by the compiler and is never changed. Returned
    unchanged without pre-selection, or when the program uses no qubit (QAT adds nothing then).
    """
    if not config.pre_selection or not used_qubits:
        return circuit
    from qiskit import ClassicalRegister

    herald = ClassicalRegister(len(used_qubits), HERALD_REGISTER)
    heralded = circuit.copy_empty_like()
    heralded.add_register(herald)
    for position, qubit in enumerate(used_qubits):
        heralded.measure(qubit, herald[position])
    for instruction in circuit.data:
        heralded.append(instruction)
    return heralded


def kept_shots(
    config: CompilerConfig, circuit: QuantumCircuit, hex_counts: dict[str, int], hex_memory: list[str] | None
) -> tuple[dict[str, int], list[str] | None]:
    """The counts and per-shot memory of the shots pre-selection keeps (all of them without it).

    Aer's hex keys hold every clbit, the herald register's too; a shot is kept when all its herald
    bits read 0. Counts are rebuilt from the kept memory (``needs_memory`` asked Aer for it).
    """
    herald = next((register for register in circuit.cregs if register.name == HERALD_REGISTER), None)
    if herald is None or hex_memory is None:
        return hex_counts, hex_memory
    mask = sum(1 << circuit.find_bit(bit).index for bit in herald)
    kept = [shot for shot in hex_memory if not int(shot, 16) & mask]
    return dict(Counter(kept)), kept
