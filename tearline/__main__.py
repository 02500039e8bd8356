"""``python -m tearline``."""

from .cli import main

main()
