"""What a reader gets from "Launch Binder": the reader notebooks in a real JupyterLab.

``.binder/postBuild`` runs in a copy of the repository (its tracked and
untracked, not ignored files, committed to a fresh git repository), with a
fresh home and a JupyterLab application directory of its own, as on
mybinder.org, where postBuild writes the image's settings and notebooks.
Then a real JupyterLab (PyPI ``jupyterlab``) serves the copy, and Debian's
chromium, driven by Playwright, opens for every chapter the notebook its
launch URL names, runs all cells and looks at what the reader sees.

Running every chapter twice (postBuild, then Run All) takes minutes;
``SGDLAB_BINDER_CHAPTERS=watching-sgd,landscape`` limits the test to some.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sgdlab.grading.exercises import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TOKEN = "sgdlab-test"
#: MyST that must never reach the reader: roles, directives, labels.
MYST = re.compile(r"\{[\w:-]+\}`|^:{3,}|^`{3,}\{|^\([\w:.-]+\)=|\x00", re.M)
SELECTED = [
    c.strip()
    for c in os.environ.get("SGDLAB_BINDER_CHAPTERS", "").split(",")
    if c.strip()
] or list(CHAPTERS)


def _site_extension():
    path = ROOT / "_ext" / "sgdlab_notebooks.py"
    spec = importlib.util.spec_from_file_location("sgdlab_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def launch_url(chapter: str) -> str:
    """The Binder link of the chapter's page, as the build makes it: the theme's
    link (to the page's source) rewritten by the book's extension."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].rstrip("/").split("github.com/")[1]
    branch = config["repository"]["branch"]
    theme = (
        f"{config['launch_buttons']['binderhub_url']}/v2/gh/{repo}/{branch}"
        f"?urlpath=lab/tree/book/{chapter}.md"
    )
    context = {
        "header_buttons": [{"label": "launch-buttons", "buttons": [{"url": theme}]}]
    }
    _site_extension().launch_to_reader(
        None, f"book/{chapter}", "page.html", context, None
    )
    return context["header_buttons"][0]["buttons"][0]["url"]


def test_launch_urls_name_the_reader_notebooks_postbuild_writes():
    """Each chapter's launch URL names notebooks/<chapter>.ipynb: the file that
    postBuild writes, in a folder git ignores; other pages get no launch button."""
    ext = _site_extension()
    post_build = (ROOT / ".binder" / "postBuild").read_text()
    assert f"--out {ext.READER_DIR} --reader" in post_build
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", f"{ext.READER_DIR}/x.ipynb"], cwd=ROOT
    ).returncode
    assert ignored == 0, f"git must ignore {ext.READER_DIR}/"
    for chapter in CHAPTERS:
        url = launch_url(chapter)
        assert url.endswith(f"?urlpath=lab/tree/{ext.READER_DIR}/{chapter}.ipynb"), url
        assert (ROOT / "book" / f"{chapter}.md").is_file()
    for page in ("book/intro", "book/grading", "book/references"):
        context = {
            "header_buttons": [{"label": "launch-buttons", "buttons": [{"url": "x"}]}]
        }
        ext.launch_to_reader(None, page, "page.html", context, None)
        assert context["header_buttons"] == [], page
    # The site's pages, where a build exists, carry exactly these links.
    html = ROOT / "_build" / "html" / "book"
    for chapter in CHAPTERS:
        page = html / f"{chapter}.html"
        if page.is_file():
            links = set(
                re.findall(r'href="(https://mybinder\.org[^"]+)"', page.read_text())
            )
            assert links == {launch_url(chapter).replace("&", "&amp;")}, (
                chapter,
                links,
            )
    for page in ("intro", "grading", "references"):
        if (html / f"{page}.html").is_file():
            assert "mybinder.org/v2/" not in (html / f"{page}.html").read_text(), page


def test_reader_notebook_structure_without_running():
    """The conversion alone (fast): no MyST left, listings with code, figures as cells."""
    from sgdlab.grading.reader import reader_notebook

    for chapter in CHAPTERS:
        nb = reader_notebook(chapter, ROOT / "book", execute=False)
        text = (ROOT / "book" / f"{chapter}.md").read_text()
        markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        left = set(MYST.findall(markdown)) - {"{glue:text}`"}  # filled in when run
        assert not left, (chapter, left)
        shows = [c for c in nb.cells if "reader-figure" in c.metadata.get("tags", [])]
        assert len(shows) == text.count("{glue:figure}"), chapter
        assert all(c.metadata["jupyter"]["source_hidden"] for c in shows)
        listings = re.findall(r"```python\n# from (code/\S+)\n(.+?)```", markdown, re.S)
        assert len(listings) == text.count("{literalinclude}"), chapter
        for _, code in listings:
            assert len(code.strip().splitlines()) >= 1 and "literalinclude" not in code
        assert nb.metadata["kernelspec"]["display_name"] == "Python 3 (ipykernel)"


# --------------------------------------------------------------------------
# A real JupyterLab with Binder's settings
# --------------------------------------------------------------------------
def _copy_repository(target: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in filter(None, files.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"],
    ):
        subprocess.run(command, cwd=target, check=True)


def _status(repo: Path) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.fixture(scope="module")
def binder(tmp_path_factory):
    if not (BIN / "jupyter-lab").exists():
        pytest.fail("jupyterlab is not installed: pip install -r requirements-test.txt")
    chromium = os.environ.get("SGDLAB_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        message = "Debian chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    tmp = tmp_path_factory.mktemp("binder")
    repo, home, app = tmp / "repo", tmp / "home", tmp / "lab-app"
    repo.mkdir(), home.mkdir(), app.mkdir()
    _copy_repository(repo)
    # JupyterLab's application directory, as in the image: its files, but a
    # settings folder of its own, which postBuild fills.
    installed = Path(
        subprocess.run(
            [str(BIN / "jupyter-lab"), "path"],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.split("Application directory:")[1]
        .split("\n")[0]
        .strip()
    )
    for entry in installed.iterdir():
        if entry.name != "settings":
            (app / entry.name).symlink_to(entry)
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTERLAB_DIR": str(app),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "OMP_NUM_THREADS": "1",
    }
    for name in (
        "JUPYTER_CONFIG_DIR",
        "JUPYTER_DATA_DIR",
        "JUPYTER_RUNTIME_DIR",
        "JUPYTERLAB_SETTINGS_DIR",
        "JUPYTERLAB_WORKSPACES_DIR",
    ):
        env.pop(name, None)
    if SELECTED != list(CHAPTERS):
        env["SGDLAB_READER_CHAPTERS"] = ",".join(SELECTED)
    started = time.monotonic()
    build = subprocess.run(
        ["bash", ".binder/postBuild"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=3000,
    )
    post_build_s = time.monotonic() - started
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    print(f"\npostBuild: {post_build_s:.0f} s for {len(SELECTED)} chapter(s)")
    before = _status(repo)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    lab = subprocess.Popen(
        [
            str(BIN / "jupyter-lab"),
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={repo}",
            "--LabApp.expose_app_in_browser=True",
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        ],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "lab.log").open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(
                "JupyterLab did not start: " + (tmp / "lab.log").read_text()[-2000:]
            )
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
            )
            yield {"base": base, "repo": repo, "browser": browser, "before": before}
            browser.close()
    finally:
        lab.terminate()
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            lab.kill()


def _open(binder, urlpath: str):
    context = binder["browser"].new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    # reset: a fresh workspace, as a new Binder session has (not the last test's tabs).
    page.goto(f"{binder['base']}/{urlpath}?reset&token={TOKEN}", timeout=120_000)
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget",
        timeout=120_000,
    )
    return context, page


_RUN_ALL = """async () => {
  const app = window.jupyterapp, panel = app.shell.currentWidget;
  await panel.context.ready; await panel.sessionContext.ready;
  await app.commands.execute('notebook:run-all-cells');
}"""
_DONE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.model.cells;
  if (panel.sessionContext.session.kernel.status !== 'idle') return false;
  let all = true;
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type !== 'code') continue;
    // Run All stops at a cell that fails: done, and the test reports the error.
    if (c.toJSON().outputs.some(o => o.output_type === 'error')) return true;
    if (!c.executionCount) all = false;
  }
  return all;
}"""
_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget, nb = panel.content;
  const cells = [];
  for (let i = 0; i < nb.model.cells.length; i++) {
    const c = nb.model.cells.get(i), widget = nb.widgets[i];
    const out = c.type === 'code' ? c.toJSON().outputs : [];
    cells.push({type: c.type, tags: c.getMetadata('tags') || [],
                errors: out.filter(o => o.output_type === 'error')
                           .map(o => o.ename + ': ' + o.evalue),
                images: widget.node.querySelectorAll('.jp-OutputArea-output img').length,
                players: widget.node.querySelectorAll(
                  '.jp-OutputArea-output .sgdlab-animation').length,
                hidden: !!(c.getMetadata('jupyter') || {}).source_hidden,
                collapsed: widget.inputHidden === true});
  }
  return {cells, kernel: panel.sessionContext.kernelDisplayName,
          dirtyKernel: JSON.stringify(panel.content.model.getMetadata('kernelspec')),
          dialogs: document.querySelectorAll('.jp-Dialog').length,
          toasts: Array.from(document.querySelectorAll('.Toastify__toast')).map(t => t.innerText)};
}"""


def _page_counts(chapter: str) -> tuple[int, int]:
    """(figures, animations) of the chapter's page: its glue:figure blocks, and
    those of them that show a player (from the built page where there is one)."""
    text = (ROOT / "book" / f"{chapter}.md").read_text()
    figures = text.count("{glue:figure}")
    page = ROOT / "_build" / "html" / "book" / f"{chapter}.html"
    if page.is_file():
        animations = page.read_text().count('class="sgdlab-animation"')
    else:  # the glued object's name says so: every player is glued as *anim*
        names = re.findall(r"\{glue:figure\}\s+(\S+)", text)
        animations = sum("anim" in name for name in names)
    return figures, animations


@pytest.mark.parametrize("chapter", SELECTED)
def test_launched_chapter_reads_like_the_page(binder, chapter):
    urlpath = urlparse(launch_url(chapter)).query.split("urlpath=")[1]
    context, page = _open(binder, urlpath)
    try:
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        page.evaluate(_RUN_ALL)
        page.wait_for_function(_DONE, timeout=900_000, polling=1000)
        # Every cell attached: JupyterLab renders long notebooks lazily.
        page.evaluate("""async () => { const nb = window.jupyterapp.shell.currentWidget.content;
            for (let i = 0; i < nb.widgets.length; i++) { await nb.scrollToItem(i); } }""")
        state = page.evaluate(_STATE)
        if os.environ.get("SGDLAB_BINDER_SCREENSHOTS"):
            page.evaluate(
                "() => window.jupyterapp.shell.currentWidget.content.scrollToItem(12)"
            )
            page.wait_for_timeout(1000)
            page.screenshot(
                path=f"{os.environ['SGDLAB_BINDER_SCREENSHOTS']}/{chapter}.png"
            )
        text = page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.content.node.innerText"
        )
        page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()"
        )
        # The rendered Markdown with what its folded solutions hold.
        everything = page.evaluate("""() => Array.from(window.jupyterapp.shell.currentWidget
            .content.node.querySelectorAll('.jp-RenderedMarkdown'))
            .map(n => n.textContent).join('\\n')""")
    finally:
        context.close()
    cells = state["cells"]
    errors = [e for c in cells for e in c["errors"]]
    assert not errors, errors
    assert state["dialogs"] == 0, "a dialog (kernel choice?) covers the notebook"
    assert not [t for t in state["toasts"] if "news" in t.lower()], state["toasts"]
    assert state["kernel"] == "Python 3 (ipykernel)"
    figures, animations = _page_counts(chapter)
    shows = [c for c in cells if "reader-figure" in c["tags"]]
    assert len(shows) == figures
    assert sum(c["players"] for c in shows) == animations, "players"
    # A player holds images of its own: a figure is a cell with an image, no player.
    assert (
        sum(c["players"] == 0 and c["images"] >= 1 for c in shows)
        == figures - animations
    )
    assert all(c["images"] + c["players"] >= 1 for c in shows)
    # Hidden on the page, folded here: glue calls, assertions, solutions.
    hidden_tags = {
        "remove-cell",
        "remove-input",
        "hide-input",
        "solution",
        "reader-setup",
    }
    folded = [c for c in cells if hidden_tags & set(c["tags"])]
    assert folded and all(c["collapsed"] for c in folded)
    assert not MYST.search(text), MYST.search(text)
    for stray in (
        "{glue",
        "{numref}",
        "{doc}",
        "{download}",
        "{cite",
        ":::",
        "exercise-start",
    ):
        assert stray not in text, stray
    # Listings are code: the package's source under "# from code/...".
    listings = (ROOT / "book" / f"{chapter}.md").read_text().count("{literalinclude}")
    assert everything.count("# from code/sgdlab/") == listings
    for listing in everything.split("# from code/sgdlab/")[1:]:
        assert re.match(r"\S+\.py\s*\n\s*(def |class |@|\w+ = )", listing), listing[
            :200
        ]
    # Numbers are numbers: the notebook file holds the run's values.
    saved = json.loads((binder["repo"] / urlpath.split("lab/tree/")[1]).read_text())
    assert saved["metadata"]["kernelspec"]["display_name"] == "Python 3 (ipykernel)"


def test_other_pages_open_as_markdown_and_nothing_changed(binder):
    """README and the intro open rendered, as Markdown, not as notebooks; after
    all the chapters ran, git sees no change in the repository."""
    for path in ("README.md", "book/intro.md", "book/grading.md"):
        context, page = _open(binder, f"lab/tree/{path}")
        try:
            page.wait_for_function(
                """() => { const w = window.jupyterapp.shell.currentWidget;
                return w && w.node.querySelector('.jp-RenderedMarkdown h1'); }""",
                timeout=60_000,
            )
            kind = page.evaluate("""() => { const w = window.jupyterapp.shell.currentWidget;
                return [w.content.node.className, w.context.path]; }""")
            assert "jp-MarkdownViewer" in kind[0] and kind[1] == path, kind
            assert page.locator(".jp-Dialog").count() == 0, path
        finally:
            context.close()
    assert binder["before"] == "", binder["before"]  # postBuild changed nothing tracked
    assert _status(binder["repo"]) == binder["before"]
