"""Sub-commands of the `fivetype` command, one module each."""
