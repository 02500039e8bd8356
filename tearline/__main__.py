"""``python -m tearline``."""

from tearline.cli import main

main()
