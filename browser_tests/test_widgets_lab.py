"""Every chapter's widgets in a real JupyterLab, driven by a real Chromium.

One JupyterLab server (a free local port) serves copies of the chapter notebooks (so autosave never touches
the committed files). For each chapter: open the notebook, run every cell in FAST mode, then for every widget
the notebook shows, move its main control (its first slider, dropdown, toggle buttons or checkbox) and wait
until what the widget shows changes (the image's bytes or the text of its view); then check that the
kernel still answers. A screenshot of each widget before and after goes to the artifacts folder.

A chapter whose data set is neither here nor downloadable is skipped with the reason the notebook tests
give (``data.notebook_missing_data`` decides for both, in conftest.py, before JupyterLab starts); a run that stops at an error fails at once, naming
the cell and the error.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TOKEN = "workbench-browser-test"

#: what a widget shows: a hash of the bytes of each of its images (ipywidgets serves them as blob URLs, new
#: at every redraw even when the picture is the same) and the text of its HTML views, as one string
VIEW = """async (root) => {
  const parts = [];
  for (const image of root.querySelectorAll('img')) {
    const bytes = new Uint8Array(await (await fetch(image.src)).arrayBuffer());
    let hash = 0;
    for (let i = 0; i < bytes.length; i++) hash = (hash * 31 + bytes[i]) | 0;
    parts.push(bytes.length + ':' + hash);
  }
  for (const html of root.querySelectorAll('.widget-html-content')) parts.push(html.innerText);
  return JSON.stringify(parts);
}"""

#: seconds to wait for a redraw (chapter 3's bits map runs a PixelCNN over the crop on every change)
REDRAW_SECONDS = float(os.environ.get("WIDGET_REDRAW_SECONDS", "240"))

#: the first control of a widget, in document order, and its kind
MAIN_CONTROL = """(root) => {
  const found = root.querySelector('.widget-slider, .widget-dropdown, .widget-toggle-buttons, .widget-checkbox, .widget-radio-box');
  if (!found) return null;
  for (const kind of ['widget-slider', 'widget-dropdown', 'widget-toggle-buttons', 'widget-checkbox', 'widget-radio-box'])
    if (found.classList.contains(kind)) return kind;
  return null;
}"""


#: the first cell whose output is an error: its index among all cells and among code cells, and the error
FIRST_ERROR = """() => {
  const cells = window.jupyterapp.shell.currentWidget.content.widgets;
  let code = -1;
  for (let index = 0; index < cells.length; index++) {
    const model = cells[index].model;
    if (model.type !== 'code') continue;
    code++;
    for (let i = 0; i < model.outputs.length; i++) {
      const output = model.outputs.get(i);
      if (output.type === 'error') {
        const json = output.toJSON();
        return {index, cell: code, error: `${json.ename}: ${json.evalue}`.slice(0, 500)};
      }
    }
  }
  return {index: -1, cell: -1, error: 'unknown'};
}"""


def _changed(page, root, before: str, seconds: float) -> bool:
    """Poll what the widget shows until it differs from ``before`` or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if root.evaluate(VIEW) != before:
            return True
        page.wait_for_timeout(500)
    return False


def _free_port() -> int:
    with socket.socket() as handle:
        handle.bind(("127.0.0.1", 0))
        return handle.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on copies of the chapter notebooks; yields its base URL."""
    folder = tmp_path_factory.mktemp("lab")
    for path in NOTEBOOKS:
        shutil.copy(path, folder / path.name)
    settings = folder / ".settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # every cell in the page (no virtual scrolling), so each widget's DOM exists
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = folder / ".settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)  # no "get notified about Jupyter news?" toast over the widgets
    (news / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    port = _free_port()
    # its own settings and workspaces: a workspace left by another session would reopen (and run) notebooks
    env = {
        **os.environ,
        "FAST": "1",
        "JUPYTERLAB_SETTINGS_DIR": str(folder / ".settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(folder / ".workspaces"),
        "MPLBACKEND": "Agg",
    }
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={folder}",
        "--LabApp.expose_app_in_browser=True",
        "--ServerApp.disable_check_xsrf=True",
        "--allow-root",
    ]
    log = open(folder / "lab.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2):
                break
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited:\n{(folder / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("jupyter lab did not start in 60 s")
    yield base
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def _move(page, root, kind: str, attempt: int = 0) -> str:
    """Move a widget's main control; a second attempt moves a slider the other way (a slider may sit
    where one direction changes nothing, e.g. more rows than a message has symbols)."""
    if kind == "widget-slider":
        handle = root.query_selector(
            ".widget-slider .noUi-handle, .widget-slider .ui-slider-handle"
        )
        handle.focus()
        at_start = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemin")
        key = "ArrowRight" if at_start != (attempt == 1) else "ArrowLeft"
        presses = 3 if attempt == 0 else 6
        for _ in range(presses):
            page.keyboard.press(key)
        return f"slider {key} x{presses}"
    if kind == "widget-dropdown":
        select = root.query_selector(".widget-dropdown select")
        options = select.eval_on_selector_all("option", "o => o.map(x => x.value)")
        current = select.input_value()
        choice = next(o for o in options if o != current)
        select.select_option(choice)
        return f"dropdown -> {choice}"
    if kind == "widget-toggle-buttons":
        button = root.query_selector(".widget-toggle-buttons button:not(.mod-active)")
        button.click()
        return f"toggle -> {button.inner_text()}"
    if kind == "widget-checkbox":
        root.query_selector(".widget-checkbox input").click()
        return "checkbox clicked"
    root.query_selector(".widget-radio-box input:not(:checked)").click()
    return "radio clicked"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_widget_answers_its_main_control(browser, lab, artifacts, notebook):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        # one fresh workspace per notebook (?reset): only this notebook is open, so only its kernel runs
        page.goto(f"{lab}/lab/workspaces/{notebook.stem}/tree/{notebook.name}?reset&token={TOKEN}")
        page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
            timeout=120_000,
        )
        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.ready")
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        # done when every code cell has run (or one failed) and the kernel is idle
        state = """() => {
            const panel = window.jupyterapp.shell.currentWidget;
            const cells = panel.content.widgets.filter(c => c.model.type === 'code');
            const errors = cells.filter(c => Array.from({length: c.model.outputs.length},
                (_, i) => c.model.outputs.get(i).type).includes('error')).length;
            const unrun = cells.filter(c => !c.model.executionCount).length;
            const session = panel.sessionContext.session;
            const status = session && session.kernel ? session.kernel.status : 'no kernel';
            return {errors, unrun, status};
        }"""
        page.wait_for_function(
            "() => { const s = (" + state + ")(); return s.errors > 0 || ['dead', 'no kernel']"
            ".includes(s.status) || (s.unrun === 0 && s.status === 'idle'); }",
            timeout=900_000,
        )
        final = page.evaluate(state)
        if final["errors"]:
            failed = page.evaluate(FIRST_ERROR)
            pytest.fail(
                f"{notebook.name}: run all stopped at code cell {failed['cell']} "
                f"(notebook cell {failed['index']}): {failed['error']}"
            )
        assert final["unrun"] == 0, f"{notebook.name}: run all stopped: {final}"
        roots = page.query_selector_all(
            ".jp-OutputArea-output > .jupyter-widgets.widget-vbox, "
            ".jp-OutputArea-output > .jupyter-widgets.widget-hbox"
        )
        assert roots, f"{notebook.name}: no widget on the page"
        moved = 0
        for index, root in enumerate(roots):
            kind = root.evaluate(MAIN_CONTROL)
            if kind is None:
                continue
            root.scroll_into_view_if_needed()
            page.wait_for_timeout(300)
            before = root.evaluate(VIEW)
            root.screenshot(path=str(artifacts / f"{notebook.stem}-{index}-before.png"))
            action = _move(page, root, kind)
            if not _changed(page, root, before, REDRAW_SECONDS):
                if kind != "widget-slider":
                    pytest.fail(
                        f"{notebook.name} widget {index}: the view did not change after {action}"
                    )
                action += ", then " + _move(page, root, kind, attempt=1)
                if not _changed(page, root, before, REDRAW_SECONDS):
                    pytest.fail(
                        f"{notebook.name} widget {index}: the view did not change after {action}"
                    )
            page.wait_for_timeout(500)
            root.screenshot(path=str(artifacts / f"{notebook.stem}-{index}-after.png"))
            moved += 1
        assert moved, f"{notebook.name}: no widget with a control"
        status = page.evaluate(
            """async () => {
                const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
                const reply = await kernel.requestKernelInfo();
                return [kernel.status, reply ? reply.content.status : null];
            }"""
        )
        assert status[0] != "dead" and status[1] == "ok", f"{notebook.name}: kernel {status}"
    finally:
        page.evaluate(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext.shutdown()"
        )
        context.close()
