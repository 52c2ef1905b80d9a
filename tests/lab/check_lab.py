"""Browser check of the notebooks in JupyterLab: `python tests/lab/check_lab.py NOTEBOOK...`.

Starts JupyterLab from this Python environment on 127.0.0.1 (a free port, a random token, a
temporary copy of the notebooks so nothing is saved into the repository, temporary settings
with windowing off so that every cell is in the page), opens each notebook in headless
Chromium, runs all cells, and fails, listing each problem with its notebook, on:

- an error output (a traceback) in any cell, or a cell that did not run;
- MyST markup left raw in a rendered markdown cell (``:::{``, ```` ```{ ````, ``{cite``,
  ``{prf:ref}``, ``:label:`` ...): jupyterlab-myst is missing or cannot render it; and a
  ``{cite}`` role, which jupyterlab-myst renders as a bare key (tools/notebooks.py cite);
- a solution that is not folded: the input or the outputs of a cell inside a solution
  (see tools/notebooks.py) visible, or the text of a solution-start dropdown visible;
- a request for anything outside the local server;
- an explorer that runs in the browser (adam_course/explorers.js, the output of
  ``static_explorer``) that does not start, or does not redraw when its first slider moves;
- a live explorer (a cell output with an ipywidgets slider and an image widget) whose image
  does not change when a slider moves.

For every live explorer it prints the median time from a slider key press to the new image
(MOVES moves, default 5), measured in the page. Times are reported, not judged: the speed
budget is a benchmark's business (`make bench-lab`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from notebooks import ROLE, deeper_boxes, deeper_cells, solution_cells, solution_spans, text  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
RUN_TIMEOUT_S = 300  # all cells of one notebook
SETTINGS = {  # JUPYTERLAB_SETTINGS_DIR for the check
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"checkForUpdates": False, "fetchNews": "false"},
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
}

# MyST markup that must not survive rendering (text of rendered markdown cells).
RAW_MYST = [
    (re.compile(r"(`{3,}|:{3,})\s*\{[\w:-]+\}"), "a directive fence"),
    (re.compile(r"\{[a-z][\w-]*(?::[\w-]+)?\}`"), "a role"),
    (re.compile(r"(^|\n)\s*:(label|class|name|nonumber|enumerated):"), "a directive option"),
    (re.compile(r"<!--"), "an HTML comment"),
]

# The notebook panel of the running app (JupyterLab started with expose_app_in_browser).
PANEL = "window.jupyterapp.shell.currentWidget"

RUN_ALL = """async () => {
    const panel = PANEL;
    await panel.context.sessionContext.ready;
    await window.jupyterapp.commands.execute('notebook:run-all-cells');
}""".replace("PANEL", PANEL)

# Every code cell ran (an execution count) and the kernel is idle.
DONE = """() => {
    const panel = PANEL;
    const session = panel.context.sessionContext;
    if (!session.session || session.session.kernel.status !== 'idle') return false;
    const cells = panel.content.widgets.filter(c => c.model.type === 'code');
    if (cells.some(c => c.promptNode.textContent.indexOf('*') >= 0)) return false;
    // all ran, or run-all stopped at an error (the cells after it never run)
    return cells.every(c => c.model.executionCount !== null)
        || cells.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
}""".replace("PANEL", PANEL)

# Per cell: type, visible input, visible outputs, error outputs, rendered markdown text,
# and whether it holds a live explorer (a slider and an image widget).
CELLS = """() => {
    const panel = PANEL;
    const shown = e => !!e && e.checkVisibility({visibilityProperty: true, opacityProperty: true});
    return panel.content.widgets.map((cell, index) => {
        const node = cell.node;
        const model = cell.model;
        const outputs = model.type === 'code' ? model.outputs.toJSON() : [];
        const rendered = model.type === 'markdown'
            ? [...node.querySelectorAll(
                '.jp-MarkdownOutput, .jp-RenderedMarkdown, .myst')]
            : [];
        return {
            index: index,
            type: model.type,
            inputShown: model.type === 'code'
                ? shown(node.querySelector('.jp-InputArea-editor'))
                : rendered.some(shown),
            outputsShown: shown(node.querySelector('.jp-OutputArea'))
                && node.querySelector('.jp-OutputArea').children.length > 0,
            errors: outputs.filter(o => o.output_type === 'error')
                           .map(o => o.ename + ': ' + String(o.evalue).slice(0, 160)),
            markdown: rendered.map(e => e.textContent).join('\\n'),
            openDetails: node.querySelectorAll(
                '.jp-MarkdownOutput details[open], .myst details[open]').length,
            visibleText: rendered.filter(shown).map(e => e.innerText).join('\\n'),
            browser: node.querySelector('.jp-OutputArea .adam-explorer')
                ? !!node.querySelector('.jp-OutputArea .adam-explorer').explorer : null,
            explorer: !!(node.querySelector('.jp-OutputArea .widget-slider, '
                                          + '.jp-OutputArea .jupyter-widget-slider')
                         && node.querySelector('.jp-OutputArea img.widget-image, '
                                               + '.jp-OutputArea .jupyter-widgets img')),
        };
    });
}""".replace("PANEL", PANEL)

# One slider move in cell INDEX: press KEY on the handle of slider SLIDER, resolve with the
# milliseconds from the key press to the image's new src or a new text in the explorer's
# HTML widgets (or null after 10 s).
ARM = """([index, slider]) => {
    const cell = PANEL.content.widgets[index].node;
    const img = cell.querySelector(
        '.jp-OutputArea img.widget-image, .jp-OutputArea .jupyter-widgets img');
    const handles = [...cell.querySelectorAll('.jp-OutputArea .noUi-handle')];
    const handle = handles[slider];
    window.__move = new Promise(resolve => {
        let t0 = null;
        const down = e => { if (t0 === null) t0 = performance.now(); };
        handle.addEventListener('keydown', down, {capture: true, once: true});
        // what the kernel sends back: the figure and the HTML widgets (title, status);
        // a move can leave the figure as it was (a step size past the frame draws the same
        // pixels), and then the new title is the answer the reader sees
        const output = cell.querySelector('.jp-OutputArea');
        const state = () => img.src + ' | ' + [...output.querySelectorAll('.widget-html')]
            .map(e => e.textContent).join(' | ');
        const before = state(), figure = img.src;
        let text = null;  // when the title changed, if the figure has not (yet)
        const observer = new MutationObserver(() => {
            if (t0 === null) return;
            if (img.src !== figure) {
                observer.disconnect(); resolve({ms: performance.now() - t0, figure: true});
            } else if (text === null && state() !== before) {
                text = performance.now() - t0;  // the figure may follow: wait 2 s for it
                setTimeout(() => { observer.disconnect(); resolve({ms: text, figure: false}); },
                           2000);
            }
        });
        observer.observe(output, {attributes: true, attributeFilter: ['src'], childList: true,
                                  characterData: true, subtree: true});
        setTimeout(() => { observer.disconnect(); resolve(null); }, 10000);
    });
    handle.focus();
    return {handles: handles.length, now: Number(handle.getAttribute('aria-valuenow')),
            max: Number(handle.getAttribute('aria-valuemax')),
            min: Number(handle.getAttribute('aria-valuemin')),
            label: (handle.closest('.widget-slider, .jupyter-widget-slider')
                    ?.querySelector('.widget-label')?.textContent || '').trim()};
}""".replace("PANEL", PANEL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """JupyterLab on 127.0.0.1 in a process group of its own, stopped on exit."""

    def __init__(self, notebooks: list[Path]):
        self.tmp = Path(tempfile.mkdtemp(prefix="check-lab-"))
        self.root = self.tmp / "notebooks"
        self.root.mkdir()
        for path in notebooks:
            shutil.copy(path, self.root / path.name)
        settings = self.tmp / "settings"
        for name, values in SETTINGS.items():
            target = settings / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}/"
        env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings),
               "JUPYTERLAB_WORKSPACES_DIR": str(self.tmp / "workspaces"),
               "JUPYTER_RUNTIME_DIR": str(self.tmp / "runtime"),
               "JUPYTER_CONFIG_DIR": str(self.tmp / "config"),
               "IPYTHONDIR": str(self.tmp / "ipython")}
        env.pop("MPLBACKEND", None)  # the kernel shows figures inline, as for a reader
        command = [sys.executable, "-m", "jupyterlab", "--no-browser",
                   "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
                   "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                   f"--ServerApp.root_dir={self.root}", "--LabApp.expose_app_in_browser=True",
                   "--LabApp.news_url=", "--LabApp.check_for_updates_class="
                   "jupyterlab.handlers.announcements.NeverCheckForUpdate"]
        if os.geteuid() == 0:
            command.append("--allow-root")
        self.log = open(self.tmp / "lab.log", "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(command, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()

    def _wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("JupyterLab exited:\n" + self.read_log()[-2000:])
            try:
                with urllib.request.urlopen(f"{self.base}api/status?token={self.token}",
                                            timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"JupyterLab did not answer within {timeout} s:\n"
                           + self.read_log()[-2000:])

    def read_log(self) -> str:
        self.log.flush()
        return (self.tmp / "lab.log").read_text(errors="replace")

    def shutdown_kernels(self) -> int:
        """Shut down every running kernel (a checked notebook's kernel would otherwise stay
        alive, and keep using CPU, while the next notebooks run). Returns how many."""
        def call(method, path):
            request = urllib.request.Request(f"{self.base}api/{path}?token={self.token}",
                                             method=method)
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.read()

        kernels = json.loads(call("GET", "kernels"))
        for kernel in kernels:
            call("DELETE", f"kernels/{kernel['id']}")
        return len(kernels)

    def url(self, name: str) -> str:
        return f"{self.base}lab/tree/{name}?token={self.token}&reset"

    def stop(self):
        if self.process.poll() is None:
            try:  # the server shuts its kernels down on SIGTERM; the group takes strays
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=10)
        try:  # kernels are in the same session; make sure none survives
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def raw_myst(markdown: str) -> list[str]:
    found = []
    for pattern, what in RAW_MYST:
        m = pattern.search(markdown)
        if m:
            start = max(0, m.start() - 20)
            found.append(f"{what} left raw: {markdown[start:m.end() + 30].strip()!r}")
    return found


def solution_problems(cells_dom, notebook) -> list[str]:
    """A solution's cells, and a going-deeper box's code cells, keep their input folded
    (JupyterLab shows a one-line placeholder); no dropdown is open and no sentence of a
    solution's or a box's markdown is visible.

    (A solution cell's outputs are not checked: JupyterLab shows the outputs of a cell it
    runs even when the notebook says ``outputs_hidden``.)
    """
    problems = []
    cells = notebook["cells"]
    for index in solution_cells(cells):
        if cells_dom[index]["inputShown"]:
            problems.append(f"cell {index}: solution cell with its input visible (not folded)")
    for index in deeper_cells(cells):
        if cells_dom[index]["inputShown"]:
            problems.append(f"cell {index}: going-deeper code cell with its input visible "
                            "(not folded)")
    spans, _ = solution_spans(cells)
    for index, (cell, mine) in enumerate(zip(cells, spans, strict=True)):
        if cell["cell_type"] != "markdown":
            continue
        if cells_dom[index]["openDetails"]:
            problems.append(f"cell {index}: a dropdown is open before any click")
        visible = " ".join(cells_dom[index]["visibleText"].split())
        boxes = [(m.start(), end) for m, end in deeper_boxes(text(cell))]
        for start, end in mine + boxes:
            what = "solution" if (start, end) in mine else "going-deeper box"
            body = re.sub(r"^(`{3,}|:{3,}).*$|^:[\w-]+:.*$", "", text(cell)[start:end],
                          flags=re.MULTILINE)
            runs = [r for line in body.splitlines()
                    for r in re.findall(r"[A-Za-z][A-Za-z ,;]{30,}", line)]
            if runs and runs[0].strip() in visible:
                problems.append(f"cell {index}: the {what}'s text is visible: {runs[0][:40]!r}")
    return problems


def check_explorer(page, index: int, moves: int) -> tuple[list[str], str]:
    """Move the first slider of the explorer in cell ``index`` ``moves`` times."""
    times, problems, key, label, figures = [], [], "ArrowRight", "", 0
    for _ in range(moves):
        info = page.evaluate(ARM, [index, 0])
        label = info["label"] or "slider 1"
        if info["handles"] == 0:
            return [f"cell {index}: explorer without a slider handle"], ""
        if info["now"] >= info["max"]:  # back and forth between the slider's ends
            key = "ArrowLeft"
        elif info["now"] <= info["min"]:
            key = "ArrowRight"
        page.keyboard.press(key)
        answer = page.evaluate("() => window.__move")
        if answer is None:
            problems.append(f"cell {index}: the explorer did not answer within 10 s (neither "
                            f"its image nor its title changed) when its slider {label!r} moved")
            break
        times.append(answer["ms"])
        figures += answer["figure"]
        wait_idle(page, 30)
        page.wait_for_timeout(100)
    if times and not figures:
        problems.append(f"cell {index}: the explorer's image never changed in {len(times)} "
                        f"moves of its slider {label!r}")
    if not times:
        return problems, ""
    return problems, (f"cell {index} ({label}): median {statistics.median(times):.0f} ms, "
                      f"max {max(times):.0f} ms over {len(times)} moves")


# Arm one move of the first slider of the browser explorer in cell INDEX: window.__move
# resolves with ms from the key press to the redrawn figure, or null after 5 s. Returns the
# key to press (ArrowLeft at the slider's end).
BROWSER_MOVE = """(index) => {
    const root = PANEL.content.widgets[index].node.querySelector('.adam-explorer');
    const ex = root.explorer, input = root.querySelector('input[type=range]');
    input.focus();
    const before = ex.redraws;
    window.__move = new Promise(resolve => {
        let t0 = null;
        document.addEventListener('keydown', e => { t0 = e.timeStamp; },
                                  {capture: true, once: true});
        const poll = setInterval(() => {
            if (ex.redraws > before && t0 !== null) {
                clearInterval(poll); resolve(ex.drawnAt - t0);
            }
        }, 20);
        setTimeout(() => { clearInterval(poll); resolve(null); }, 5000);
    });
    return +input.value >= +input.max ? 'ArrowLeft' : 'ArrowRight';
}""".replace("PANEL", PANEL)


def check_browser_explorer(page, index: int, moves: int) -> tuple[list[str], str]:
    """Move the first slider of the browser explorer in cell ``index`` ``moves`` times."""
    times = []
    for _ in range(moves):
        page.keyboard.press(page.evaluate(BROWSER_MOVE, index))
        ms = page.evaluate("() => window.__move")
        if ms is None:
            return [f"cell {index}: the browser explorer did not redraw when its slider "
                    "moved"], ""
        times.append(ms)
    return [], (f"cell {index} (in the browser): median {statistics.median(times):.1f} ms, "
                f"max {max(times):.1f} ms over {len(times)} moves")


def wait_idle(page, timeout_s):
    page.wait_for_function(DONE, timeout=timeout_s * 1000, polling=100)


def check_notebook(page, lab: Lab, path: Path, moves: int, external: list[str]):
    problems, notes = [], []
    external.clear()
    notebook = json.loads(path.read_text(encoding="utf-8"))
    page.goto(lab.url(path.name), wait_until="domcontentloaded")
    # JupyterLab and the notebook ready: a minute was not always enough on a 2-core machine
    # under a load average of 10-15 (chapters 3 and 5 failed so in make check-all)
    page.wait_for_function(
        "() => window.jupyterapp && P && P.content && P.context.isReady".replace("P", PANEL),
        timeout=180000, polling=200)
    page.evaluate(RUN_ALL)
    try:
        wait_idle(page, RUN_TIMEOUT_S)
    except Exception:
        problems.append(f"the cells did not all run within {RUN_TIMEOUT_S} s")
    page.wait_for_timeout(500)  # last renders (markdown, widgets)
    cells = page.evaluate(CELLS)
    if len(cells) != len(notebook["cells"]):
        problems.append(f"{len(cells)} cells in the page, {len(notebook['cells'])} in the file")
        return problems, notes
    for cell in cells:
        for error in cell["errors"]:
            problems.append(f"cell {cell['index']}: {error}")
        if cell["type"] == "markdown":
            for found in raw_myst(cell["markdown"]):
                problems.append(f"cell {cell['index']}: {found}")
            # jupyterlab-myst has no bibliography: a {cite} role renders as its bare key
            for m in ROLE.finditer(text(notebook["cells"][cell["index"]])):
                problems.append(f"cell {cell['index']}: {m[0]} shows as a bare key with a "
                                "warning icon (run 'make strip')")
    problems.extend(solution_problems(cells, notebook))
    explorers = [c["index"] for c in cells if c["explorer"]]
    for index in explorers:
        found, note = check_explorer(page, index, moves)
        problems.extend(found)
        if note:
            notes.append(note)
    for cell in cells:
        if cell["browser"] is None:
            continue
        if not cell["browser"]:
            problems.append(f"cell {cell['index']}: the browser explorer did not start")
            continue
        found, note = check_browser_explorer(page, cell["index"], moves)
        problems.extend(found)
        if note:
            notes.append(note)
    problems.extend(f"external request: {url}" for url in external)
    return problems, notes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--moves", type=int, default=5, help="slider moves per explorer")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    t0 = time.perf_counter()
    lab = Lab(args.notebooks)
    failures, timings = {}, []
    external: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})

            def route(r):
                url = r.request.url
                if url.startswith(lab.base) or url.split(":", 1)[0] in ("data", "blob", "about"):
                    r.continue_()
                else:
                    external.append(url[:120])
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.set_default_timeout(60000)
            for path in args.notebooks:
                t = time.perf_counter()
                try:
                    problems, notes = check_notebook(page, lab, path, args.moves, external)
                except Exception as exc:  # one notebook's crash is a problem, not the end
                    problems, notes = [f"check crashed: {str(exc)[:300]}"], []
                page.goto("about:blank")  # close the notebook, then stop its kernel
                if lab.shutdown_kernels() != 1:
                    problems.append("not exactly one kernel ran for this notebook")
                status = "FAIL" if problems else "ok  "
                print(f"{status} {path.name:<32} {time.perf_counter() - t:5.1f}s"
                      f"  {len(notes)} explorer(s)", flush=True)
                for note in notes:
                    print(f"       explorer {note}", flush=True)
                    timings.append((path.name, note))
                if problems:
                    failures[path.name] = problems
            browser.close()
    finally:
        lab.stop()

    for name, problems in failures.items():
        print(f"\n{name}:")
        for problem in problems:
            print(f"  - {problem}")
    if timings:
        print(f"\nslider key press to new figure in JupyterLab (median of {args.moves} moves):")
        for name, note in timings:
            print(f"  {name:<32} {note}")
    n = len(args.notebooks)
    print(f"\ncheck_lab: {n} notebooks, {len(failures)} with problems, "
          f"{time.perf_counter() - t0:.1f}s")
    print(f"check_lab: {n - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
