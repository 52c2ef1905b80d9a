"""Restart & Run All gives the same numbers: `python tests/reproducible.py` (make reproducible).

Executes every notebook in notebooks/ twice, each time in a fresh kernel, and compares every
text output (printed numbers, reprs, the HTML of the animations; object addresses masked).
Exits 1 and names the cells if any differ. Not collected by pytest and not part of make test:
it executes every notebook twice (about 90 s).
"""

import json
import re
import subprocess
import sys
from pathlib import Path

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def text_outputs(notebook: Path) -> list[str]:
    executed = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--stdout", notebook.name],
        cwd=notebook.parent, capture_output=True, text=True, check=True).stdout
    texts = []
    for cell in json.loads(executed)["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = output.get("text") or data.get("text/plain") or data.get("text/html") or ""
            texts.append(re.sub(r" at 0x[0-9a-f]+", " at 0x?", "".join(text)))
    return texts


def main() -> int:
    failed = 0
    for notebook in NOTEBOOKS:
        first, second = text_outputs(notebook), text_outputs(notebook)
        differ = [i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b]
        verdict = "identical" if not differ else f"DIFFER at outputs {differ[:10]}"
        print(f"{notebook.name}: {len(first)} text outputs, {verdict}")
        failed += bool(differ)
    print(f"reproducible: {len(NOTEBOOKS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
