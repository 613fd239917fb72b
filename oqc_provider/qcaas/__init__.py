"""The wire layer: an async QCaaS client, its payload models, the CompilerConfig codec and errors.

Nothing here imports Qiskit, pytket or Aer: it is the part OQC's own SDK users would recognise,
and it must import fast.
"""
