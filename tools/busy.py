"""Run a command while every core is kept busy: one CPU burner per core, each stopping by itself
when the command ends, when its parent goes away or after --max-seconds, whichever comes first.

    python tools/busy.py [--burners N] [--max-seconds S] -- make pytest

`make test-busy` runs the suite this way, to show it passes on a machine shared with other work.
The exit status is the command's."""

import argparse
import multiprocessing
import os
import subprocess
import sys
import time


def burn(until: float, parent: int) -> None:
    """Spin until `until` (monotonic) or until the parent is gone, checking every ~0.1 s."""
    while time.monotonic() < until and os.getppid() == parent:
        deadline = time.monotonic() + 0.1
        while time.monotonic() < deadline:
            pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--burners", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    until = time.monotonic() + args.max_seconds
    burners = [
        multiprocessing.Process(target=burn, args=(until, os.getpid()), daemon=True)
        for _ in range(args.burners)
    ]
    for burner in burners:
        burner.start()
    print(f"busy.py: {args.burners} CPU burners for at most {args.max_seconds:g} s", flush=True)
    try:
        return subprocess.call(command)
    finally:
        for burner in burners:
            burner.terminate()
        for burner in burners:
            burner.join()


if __name__ == "__main__":
    sys.exit(main())
