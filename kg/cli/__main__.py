"""``python -m kg.cli``: the ``kg`` command."""

from . import console_main

console_main()
