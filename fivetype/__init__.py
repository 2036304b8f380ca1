"""The operator's side of the platform: the `fivetype` command and the embedded stack."""
