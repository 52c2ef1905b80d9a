"""Every visible cell runs as shown: `python tests/visible_solutions.py [NOTEBOOK ...]`
(make check-visible).

Executes each notebook (default: all of notebooks/) in a fresh kernel with its `remove-cell`
cells left out, as a reader of the site sees it (`hide-input` cells stay: their code runs on
the site), and lists every cell that raises, solution cells marked. Exits 1 if a solution cell
raises. tests/test_visible_solutions.py checks the same from the code alone, in a second; this
runs the code (about 4 minutes for the eight chapters on a busy 2-core machine). Not collected
by pytest and not part of make test.
"""

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks as nbt  # noqa: E402


def failing_cells(path: Path) -> list[tuple[int, bool, str]]:
    """(index in the notebook, whether it is a solution cell, the error) for each visible cell
    that raises when the notebook runs without its remove-cell cells."""
    notebook = nbformat.read(path, as_version=4)
    solutions = set(nbt.solution_cells(notebook.cells))
    kept = [(i, cell) for i, cell in enumerate(notebook.cells)
            if "remove-cell" not in cell.metadata.get("tags", [])]
    notebook.cells = [cell for _, cell in kept]
    NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    failing = []
    for (index, _), cell in zip(kept, notebook.cells, strict=True):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                failing.append((index, index in solutions,
                                f"{output['ename']}: {output['evalue'][:200]}"))
    return failing


def main(argv=None) -> int:
    paths = [Path(p) for p in (argv or [])] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    os.environ.setdefault("MPLBACKEND", "Agg")
    solutions_failing = 0
    start = time.monotonic()
    for path in paths:
        began = time.monotonic()
        failing = failing_cells(path)
        print(f"{path.name}: {len(failing)} visible cell(s) raise "
              f"({time.monotonic() - began:.0f} s)", flush=True)
        for index, solution, error in failing:
            print(f"    cell {index}{' (solution)' if solution else ''}: {error}", flush=True)
        solutions_failing += sum(solution for _, solution, _ in failing)
    print(f"visible cells: {solutions_failing} solution cell(s) raise, "
          f"{time.monotonic() - start:.0f} s in all")
    return 1 if solutions_failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
