"""The emulated QPUs refuse what the live service was seen to refuse, as the service did.

Entries of :mod:`oqc_provider.service_observations` describe refusals QAT 3.5 on its default models does
not produce (the deployed model or version does), so no compiler imitation finds them. The emulator
reproduces each entry on the QPUs it was seen on -- e.g. the emulated Toshiko fails an OpenQASM 3
program with a two-qubit gate with ``error 101: argument of type 'NoneType' is not iterable`` -- and
leaves every other QPU to the compiler's own rules. The task ends FAILED with the entry's error code
(400 where the source reported none) and message, as the service reports it.

Example:
    >>> from oqc_provider.devices import LUCY_SIMULATOR, TOSHIKO
    >>> program = 'OPENQASM 3.0;\\nqubit[2] q;\\necr q[0], q[1];'
    >>> refuse_as_observed(program, LUCY_SIMULATOR)  # not seen on Lucy: the compiler decides
    >>> try:
    ...     refuse_as_observed(program, TOSHIKO)
    ... except ProgramError as exc:
    ...     print(exc.code, exc.message)
    101 argument of type 'NoneType' is not iterable
"""

from __future__ import annotations

from oqc_provider.devices import DeviceSpec
from oqc_provider.emulator.programs import ProgramError
from oqc_provider.service_observations import catalogue

#: The code a refused task gets when the source reported none (the emulator's usual refusal code).
_UNREPORTED_CODE = 400


def refuse_as_observed(program: str, spec: DeviceSpec) -> None:
    """Raise :class:`ProgramError` as the service did if ``program`` falls in an entry seen on ``spec``.

    Only the QPUs an entry was *seen on* reproduce it here; an entry QAT itself explains everywhere
    (``refused_on: all``) is the compiler imitation's business on the other QPUs.
    """
    for entry in catalogue().observations:
        seen = any(qpu.name == spec.name or qpu.qpu_id == spec.qpu_id for qpu in entry.seen_on)
        if seen and entry.matches(program):
            code = _UNREPORTED_CODE if entry.error_code is None else entry.error_code
            raise ProgramError(entry.message_for(program), code=code)
