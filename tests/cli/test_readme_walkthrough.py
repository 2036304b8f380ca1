"""The README's integration walk-through, run as written: its shell blocks, in order, in one
shell, in a folder where `fivetype stack start` (what `make run` runs, in the background) keeps
its data under ./data. The one change made to the text is the services' ports, which the test
chooses free so that parallel runs do not collide."""

import os
import re
import subprocess
import sys
from pathlib import Path

from fivetype.natsserver import free_port
from fivetype.state import SERVICES

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Integrating a unit's system"
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def walkthrough() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    return BLOCK.findall(section)


def test_the_readme_walkthrough_works_pasted_in_order(tmp_path: Path) -> None:
    blocks = walkthrough()
    assert len(blocks) >= 4 and "UNIT_TOKEN=$(" in blocks[0] and "sha256sum" in "".join(blocks)
    ports = {name: free_port() for name in SERVICES}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIVETYPE_", "NATS_"))}
    env |= {f"FIVETYPE_{name.upper()}_HTTP_PORT": str(port) for name, port in ports.items()}
    env |= {"PATH": f"{Path(sys.executable).parent}:{env['PATH']}", "COLUMNS": "100"}
    env |= {"LC_ALL": "C.UTF-8"}  # the office's Chinese, whatever the machine's locale
    fivetype = [sys.executable, "-m", "fivetype", "stack"]
    started = subprocess.run(
        [*fivetype, "start"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        script = ["set -euo pipefail"]
        for number, block in enumerate(blocks, start=1):
            for name, default in SERVICES.items():
                block = block.replace(f"127.0.0.1:{default}", f"127.0.0.1:{ports[name]}")
            script += [f"echo '--- step {number}'", block]
        ran = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        subprocess.run([*fivetype, "stop"], cwd=tmp_path, env=env, capture_output=True, timeout=90)
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output
    assert f"--- step {len(blocks)}" in output
    assert '"assignment_id":"2026-M07-360102"' in output.replace(" ", "")
    assert output.count('"report_id":"2026-W48-M07"') == 2  # stored, then read back
    assert "东湖区（360102）" in output and "计分明细" in output  # the scorecard, in Chinese
