"""``python -m oqc_provider.cli``: the ``oqc-provider`` command."""

from oqc_provider.cli.app import main

main()
