"""The `chapbook` command: Django's management commands plus Chapbook's own.

`chapbook migrate`, `chapbook shell`, `chapbook createsuperuser` ... are Django's;
`chapbook demo`, `serve`, `import`, `token`, `bench` are Chapbook's management commands.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chapbook.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "chapbook"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
