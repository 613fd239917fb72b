"""Run by tests/pytket/test_maps.py in a subprocess with qermit on PYTHONPATH: qermit's ZNE of one
observable through OQCTketBackend (the built-in emulator, Lucy Simulator) and through Aer.

Prints ``{"ours": <float>, "theirs": <float>}``.
"""

from __future__ import annotations

import json

from pytket import Circuit, Qubit
from pytket.extensions.qiskit import AerBackend
from pytket.pauli import Pauli, QubitPauliString
from pytket.utils import QubitPauliOperator
from qermit import AnsatzCircuit, ObservableExperiment, ObservableTracker, SymbolsDict
from qermit.zero_noise_extrapolation import Fit, Folding, gen_ZNE_MitEx

from oqc_provider.pytket import OQCTketBackend


def expectation(backend: object) -> float:
    zne = gen_ZNE_MitEx(backend, [1, 3], fit_type=Fit.linear, folding_type=Folding.circuit, show_fit=False)
    operator = QubitPauliOperator(
        {QubitPauliString({Qubit(0): Pauli.Z}): 1.0, QubitPauliString({Qubit(1): Pauli.Z}): 0.5}
    )
    ansatz = AnsatzCircuit(Circuit(2).X(0).Ry(0.3, 1), 2000, SymbolsDict())
    result = zne.run([ObservableExperiment(ansatz, ObservableTracker(operator))])
    return float(complex(sum(result[0]._dict.values())).real)


if __name__ == "__main__":
    print(
        json.dumps(
            {"ours": expectation(OQCTketBackend("Lucy Simulator")), "theirs": expectation(AerBackend())}
        )
    )
