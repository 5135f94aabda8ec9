"""``python -m helpers.recipes FAMILY ...``: the one command line of the training recipes."""

from . import main

main()
