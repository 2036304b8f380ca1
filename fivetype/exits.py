"""Exit codes every `fivetype` command keeps, so a script can tell outcomes apart."""

OK = 0
FAILURE = 1  # the work was refused or failed, or (status) something is down
USAGE = 2  # bad arguments or options (typer uses 2 as well)
UNREACHABLE = 3  # a service or NATS did not answer
NOT_FOUND = 4  # the thing named does not exist (a unit, a dead letter, a running stack)
