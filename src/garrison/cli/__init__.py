"""The ``garrison`` command line: thin commands that parse, call a pillar, and render."""
