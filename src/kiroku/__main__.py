"""``python -m kiroku`` runs the command line."""

from kiroku.cli import main

main()
