"""`python -m fivetype`: the same command as the `fivetype` script (the stack's background start
uses it, so it runs from the same interpreter)."""

from fivetype.cli import app

app()
