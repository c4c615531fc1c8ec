"""Run the CLI with ``python -m ccamap``."""

from ccamap.cli import main

main()
