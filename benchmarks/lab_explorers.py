"""The live explorers as a reader meets them: JupyterLab in headless Chromium, by hand.

    .venv/bin/python benchmarks/lab_explorers.py [--moves 5] [--width 1280]

Writes a notebook with each chapter's live explorer cell (the same calls as the chapters),
serves it with JupyterLab from .venv (a temporary settings dir: windowing off, no news),
runs it in Debian's Chromium (Playwright, /usr/bin/chromium) and, for every explorer, presses
an arrow key ``--moves`` times on its first slider, each time timing from the key press
(the keydown event's time stamp) to the new figure: the image's new ``src`` and, after
decoding, its ``load``. Also lists every control label that is cut short at that width.
Prints one line per explorer; exits 1 if an image did not change or a label is cut (a move
whose picture is the same as the last one sends nothing: keep --moves small, 5 by default).

Not part of ``make test`` (the infrastructure's check-lab is); timings depend on the machine
and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

CELLS = {  # chapter: its live explorer, as the chapter calls it
    "setup": "import numpy as np\n"
             "from adam_course import hump, landscapes, moments, playground\n"
             "bowl = landscapes.bowl(curvatures=(1.0, 10.0), angle=np.pi / 6)\n"
             "flat_bowl = landscapes.bowl(curvatures=(1.0, 100.0))",
    "ch. 1 playground": 'playground.explorer(landscape=bowl, optimizer="sgd", lr=0.1, steps=30)',
    "ch. 2 hump": "hump.explorer(lr=0.05, noise=1.0, steps=300)",
    "ch. 3 playground": 'playground.explorer(landscape=bowl, optimizer="momentum", lr=0.05, '
                        "beta1=0.9, steps=50)",
    "ch. 4 playground": 'playground.explorer(landscape="bowl", optimizer="rmsprop", lr=0.1, '
                        "beta2=0.99, eps=1e-8, steps=60)",
    "ch. 5 playground": 'playground.explorer(landscape="beale", optimizer="adam", lr=0.3, '
                        "steps=300)",
    "ch. 6 moments": "moments.explorer(beta1=0.9, beta2=0.999)",
    "animation": 'playground.static_explorer(bowl, "sgd", values=[0.05, 0.1, 0.15], steps=30)',
}

SETTINGS = {  # JupyterLab settings: every cell in the DOM, no news pop-up
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}

PANEL = "window.jupyterapp.shell.currentWidget"

# Arm one move in cell INDEX: resolve with [ms to the new src, ms to its load] after a key
# press on the first slider handle (or null after 10 s). Returns the handle's position.
ARM = """(index) => {
    const cell = PANEL.content.widgets[index].node;
    const img = cell.querySelector('.jp-OutputArea img');
    const handle = cell.querySelector('.jp-OutputArea .noUi-handle');
    window.__move = new Promise(resolve => {
        let t0 = null, tSrc = null;
        handle.addEventListener('keydown', e => { t0 = e.timeStamp; },
                                {capture: true, once: true});
        const before = img.src;
        img.addEventListener('load', () => {
            if (tSrc !== null) resolve([tSrc - t0, performance.now() - t0]);
        });
        const observer = new MutationObserver(() => {
            if (img.src !== before && t0 !== null && tSrc === null) {
                tSrc = performance.now(); observer.disconnect();
            }
        });
        observer.observe(img, {attributes: true, attributeFilter: ['src']});
        setTimeout(() => resolve(null), 10000);
    });
    handle.focus();
    return {now: Number(handle.getAttribute('aria-valuenow')),
            max: Number(handle.getAttribute('aria-valuemax'))};
}""".replace("PANEL", PANEL)

CUT = """() => [...document.querySelectorAll(
        '.jp-OutputArea .widget-label, .jp-OutputArea .widget-readout, '
        + '.jp-OutputArea .widget-dropdown select')]
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map(e => `${e.className.split(' ')[0]} ${JSON.stringify(e.textContent.trim()
        || e.value)}: ${e.scrollWidth}px text in ${e.clientWidth}px`)"""

IDLE = f"""() => {{
    const p = {PANEL};
    return !!p && !!p.sessionContext && !!p.sessionContext.session
        && p.sessionContext.session.kernel
        && p.sessionContext.session.kernel.status === 'idle';
}}"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(workdir, port):
    settings = workdir / "settings"
    for name, values in SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTER_RUNTIME_DIR=str(workdir / "runtime"))
    env.pop("MPLBACKEND", None)
    command = [str(ROOT / ".venv/bin/jupyter"), "lab", "--no-browser", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=",
               "--ServerApp.password=", f"--ServerApp.root_dir={workdir}",
               "--LabApp.expose_app_in_browser=True", "--allow-root"]
    lab = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=1)
            return lab
        except OSError:
            time.sleep(0.5)
    os.killpg(lab.pid, signal.SIGTERM)
    raise SystemExit("lab_explorers: JupyterLab did not start")


PLAYER = """(index) => {
    const root = PANEL.content.widgets[index].node.querySelector('.adam-course-animation');
    const img = root.querySelector('img'), before = img.src;
    root.querySelector('[aria-label="Next frame"]').click();
    return [img.src !== before, root.querySelector('output').textContent];
}""".replace("PANEL", PANEL)


def check_animation(page, index):
    """The offline animation's player runs in JupyterLab too (its script is trusted)."""
    moved, readout = page.evaluate(PLAYER, index)
    print(f"  offline animation: next frame {'shown' if moved else 'NOT shown'}, readout "
          f"{readout!r}")
    return moved and readout == "lr = 0.1"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=5, help="key presses per explorer")
    parser.add_argument("--width", type=int, default=1280, help="browser window width (px)")
    parser.add_argument("--screenshots", type=Path, help="save each explorer's output here")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="lab-explorers-"))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)
                                               for source in CELLS.values()])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, workdir / "explorers.ipynb")
    port = free_port()
    lab = start_lab(workdir, port)
    failed = False
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": args.width, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/lab/tree/explorers.ipynb")
            page.wait_for_function(IDLE, timeout=120_000, polling=200)
            page.evaluate(f"() => {PANEL}.content.widgets.length")
            page.evaluate("() => window.jupyterapp.commands.execute("
                          "'notebook:run-all-cells')")
            page.wait_for_function(
                f"() => {PANEL}.content.widgets.filter(c => c.node.querySelector("
                f"'.jp-OutputArea img')).length === {len(CELLS) - 1}",
                timeout=180_000, polling=200)
            page.wait_for_function(IDLE, timeout=120_000, polling=200)
            page.wait_for_timeout(1000)
            cut = page.evaluate(CUT)
            if args.screenshots:
                args.screenshots.mkdir(parents=True, exist_ok=True)
                cells = page.locator(".jp-Notebook .jp-Cell")
                for index in range(1, len(CELLS)):
                    cells.nth(index).locator(".jp-OutputArea").screenshot(
                        path=args.screenshots / f"cell{index}.png")
            print(f"JupyterLab at {args.width} px wide, {args.moves} key presses per explorer "
                  "(ms from the key press to the new image's src / to its load):")
            for index, name in enumerate(CELLS):
                if index == 0:
                    continue
                if name == "animation":
                    failed |= not check_animation(page, index)
                    continue
                src, load, key = [], [], "ArrowRight"
                for _ in range(args.moves):
                    where = page.evaluate(ARM, index)
                    if where["now"] >= where["max"]:
                        key = "ArrowLeft"
                    page.keyboard.press(key)
                    result = page.evaluate("() => window.__move")
                    if result is None:
                        print(f"  {name}: the image did not change within 10 s")
                        failed = True
                        break
                    src.append(result[0])
                    load.append(result[1])
                    page.wait_for_function(IDLE, timeout=30_000, polling=50)
                    page.wait_for_timeout(150)
                if src:
                    print(f"  {name:18s} src median {statistics.median(src):5.0f} max "
                          f"{max(src):5.0f}   load median {statistics.median(load):5.0f} max "
                          f"{max(load):5.0f}")
            print("labels cut short:", "none" if not cut else "")
            for line in cut:
                print("  ", line)
            failed = failed or bool(cut)
            browser.close()
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
