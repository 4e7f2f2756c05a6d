"""What a reader gets from "Launch Binder": the reader notebooks in a real JupyterLab.

Binder's environment (``.binder/``): the requirements, in step with the book's,
and a ``postBuild`` that survives a chapter whose run raises, kills its kernel
or hangs. Then the journey: ``.binder/postBuild`` runs in a copy of the
repository (its tracked and untracked, not ignored files, committed to a fresh
git repository), with a fresh home and a JupyterLab application directory of
its own, as on mybinder.org, where postBuild writes the image's settings and
notebooks. The copy gets the executed chapters of this session's strict build
(the ``build`` fixture), so postBuild assembles the reader notebooks from them
in seconds instead of running every chapter again. Then a real JupyterLab (the
version the image serves) serves the copy, and Debian's chromium, driven by
Playwright, opens for every chapter the notebook its launch URL names and looks
at what the reader sees: the build's outputs. In one chapter
(``SGDLAB_BINDER_RUN``: comma-separated, or ``all``; default watching-sgd, which
has figures and players) it also runs all cells, as a reader does, and looks
again. ``SGDLAB_BINDER_CHAPTERS=watching-sgd,landscape`` limits the test to some
chapters.
"""

from __future__ import annotations

import html
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
SMART_QUOTES = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}
)
MYST = re.compile(r"\{[\w:-]+\}`|^:{3,}|^`{3,}\{|^\([\w:.-]+\)=|\x00", re.M)
SELECTED = [
    c.strip()
    for c in os.environ.get("SGDLAB_BINDER_CHAPTERS", "").split(",")
    if c.strip()
] or list(CHAPTERS)
_RUN = os.environ.get("SGDLAB_BINDER_RUN", "watching-sgd")
RUN = set(CHAPTERS) if _RUN.strip() == "all" else {c.strip() for c in _RUN.split(",")}


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


def _requirements(path: Path) -> dict[str, str]:
    """name -> the rest of each requirement line of ``path`` (options under
    their own text), comments dropped."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name = re.match(r"[A-Za-z0-9_.-]+|-\S+", line).group(0)
            found[name.lower().replace("_", "-")] = line
    return found


def test_binder_lists_the_books_requirements_itself():
    """repo2docker installs .binder/requirements.txt before it copies the
    repository only when the file names no other file (no ``-r``, no ``-e``):
    then the pip layer survives a push that changes the book or the package.
    So the book's pins are listed again, the same, with PyTorch's CPU build
    and JupyterLab; postBuild installs the package (the journey below runs it)."""
    binder = _requirements(ROOT / ".binder" / "requirements.txt")
    book = _requirements(ROOT / "requirements.txt")
    assert not [n for n in binder if n.startswith("-") and n != "--extra-index-url"]
    assert binder.pop("--extra-index-url") == (
        "--extra-index-url https://download.pytorch.org/whl/cpu"
    )
    assert book.pop("-e") == "-e ."
    torch = book.pop("torch")
    assert binder.pop("torch") == torch + "+cpu", "the CPU build of the same torch"
    jupyterlab = binder.pop("jupyterlab")
    assert binder == book, "the same requirements, with the same pins"
    test = _requirements(ROOT / "requirements-test.txt")
    assert test["jupyterlab"] == jupyterlab, (
        "the browser test must drive the JupyterLab the image serves"
    )
    assert re.fullmatch(r"jupyterlab==[\d.]+", jupyterlab), "an exact pin"
    assert (ROOT / ".binder" / "runtime.txt").read_text().strip() == "python-3.11"
    post_build = (ROOT / ".binder" / "postBuild").read_text()
    assert "\npip install --no-deps -e .\n" in post_build


def test_binder_writes_reader_notebooks_and_opens_markdown_as_markdown(tmp_path):
    """postBuild writes the reader, student and instructor notebooks into notebooks/
    (ignored by git) and installs JupyterLab settings: no news pop-up, and Markdown
    files (README, intro, grading) open rendered, never as notebooks."""
    from sgdlab.notebooks.reader import reader_notebook
    from sgdlab.notebooks.writing import write_all

    binder = ROOT / ".binder"
    post_build = (binder / "postBuild").read_text()
    assert post_build.startswith("#!/bin/bash")
    assert "sgdlab notebooks --book book --out notebooks --reader" in post_build
    assert 'cp .binder/overrides.json "$app_dir/settings/overrides.json"' in post_build
    assert (binder / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"
    overrides = json.loads((binder / "overrides.json").read_text())
    assert (
        overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    )
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers == {"markdown": "Markdown Preview"}
    # The reader notebooks link to the student notebooks beside them.
    written = write_all(tmp_path, ROOT / "book", chapters=["landscape"])
    reader = reader_notebook("landscape", ROOT / "book", execute=False)
    markdown = "".join(c.source for c in reader.cells if c.cell_type == "markdown")
    targets = re.findall(r"\]\(([\w-]+-(?:student|instructor)\.ipynb)\)", markdown)
    assert len(targets) >= 2, targets
    assert {tmp_path / t for t in targets} <= set(written)


def test_reader_notebook_structure_without_running():
    """The conversion alone (fast): no MyST left, listings with code, figures as
    cells; first, the note that asks the reader to shut the kernel down."""
    from sgdlab.notebooks.reader import reader_notebook

    for chapter in CHAPTERS:
        nb = reader_notebook(chapter, ROOT / "book", execute=False)
        first = nb.cells[0]
        assert first.cell_type == "markdown"
        assert "Shut Down Kernel" in first.source and "2 GB" in first.source
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
# postBuild: the package, and chapters that fail in every way
# --------------------------------------------------------------------------
_HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
# {title}

```{{code-cell}} ipython3
{code}
```
"""
#: Chapters that fail when postBuild runs them: each must be written unrun,
#: with its note, and the others as usual.
_FAILING = {
    "landscape": (
        "A killed kernel",
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    ),
    "watching-sgd": ("A cell past its timeout", "import time\ntime.sleep(600)"),
    "epoch-rmse": ("A cell that raises", 'raise ValueError("boom")'),
}
_WORKING = ("epochs-and-minibatches", "A chapter that runs", "print(6 * 7)")


def _fake_pip(folder: Path) -> Path:
    """A ``pip`` that writes its arguments to ``pip.log`` beside it and does
    nothing else: postBuild's install must not change the test's environment
    (the copy's package is on ``PYTHONPATH`` instead)."""
    folder.mkdir(parents=True, exist_ok=True)
    pip = folder / "pip"
    pip.write_text(f'#!/bin/sh\necho "$@" >> "{folder / "pip.log"}"\n')
    pip.chmod(0o755)
    return folder / "pip.log"


def _post_build_env(tmp: Path, repo: Path, app: Path) -> tuple[dict, Path]:
    """postBuild's environment, as on mybinder.org: a fresh home, JupyterLab's
    application directory, the copy's package; and the log of its pip calls."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    pip_log = _fake_pip(tmp / "fake-bin")
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTERLAB_DIR": str(app),
        "PATH": os.pathsep.join([str(tmp / "fake-bin"), str(BIN), os.environ["PATH"]]),
        "PYTHONPATH": str(repo / "code"),
        "OMP_NUM_THREADS": "1",
    }
    for name in (
        "JUPYTER_CONFIG_DIR",
        "JUPYTER_DATA_DIR",
        "JUPYTER_RUNTIME_DIR",
        "JUPYTERLAB_SETTINGS_DIR",
        "JUPYTERLAB_WORKSPACES_DIR",
        "SGDLAB_READER_CHAPTERS",
        "SGDLAB_READER_TIMEOUT",
    ):
        env.pop(name, None)
    return env, pip_log


@pytest.mark.slow
def test_post_build_survives_a_killed_kernel_a_timeout_and_an_error(tmp_path):
    """A chapter whose kernel is killed (as for memory), one whose cell runs past
    the timeout and one whose cell raises are written unrun, each with a note
    that says why; the image still builds, and the other chapters are as usual."""
    repo, app = tmp_path / "repo", tmp_path / "lab-app"
    (repo / "book").mkdir(parents=True), app.mkdir()
    shutil.copytree(ROOT / ".binder", repo / ".binder")
    shutil.copy(ROOT / "_toc.yml", repo / "_toc.yml")
    for chapter, (title, code) in {**_FAILING, _WORKING[0]: _WORKING[1:]}.items():
        (repo / "book" / f"{chapter}.md").write_text(
            _HEADER.format(title=title, code=code)
        )
    env, pip_log = _post_build_env(tmp_path, ROOT, app)
    env["SGDLAB_READER_TIMEOUT"] = "10"
    run = subprocess.run(
        ["bash", ".binder/postBuild"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert pip_log.read_text() == "install --no-deps -e .\n"
    reasons = {
        "landscape": "Kernel died",
        "watching-sgd": "timed out",
        "epoch-rmse": "ValueError: boom",
    }
    for chapter, reason in reasons.items():
        nb = json.loads((repo / "notebooks" / f"{chapter}.ipynb").read_text())
        note = "".join(nb["cells"][0]["source"])
        assert note.startswith("**This notebook was not run"), (chapter, note)
        assert reason in note, (chapter, note)
        assert "Shut Down Kernel" in "".join(nb["cells"][1]["source"])
        outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
        assert outputs == [], chapter
        assert f"{chapter}: written unrun" in run.stderr, run.stderr
    nb = json.loads((repo / "notebooks" / f"{_WORKING[0]}.ipynb").read_text())
    assert "not run" not in "".join(nb["cells"][0]["source"])
    printed = [
        "".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", [])
    ]
    assert printed == ["42\n"], printed


def _filled_values(unrun, assembled) -> list[str]:
    """The values the assembled reader notebook shows where the unrun one shows
    ``{glue:text}`name``` (read by aligning the two, cell by cell)."""
    role = re.compile(r"\{glue:text\}`[^`]+`")
    values = []
    assert len(unrun.cells) == len(assembled.cells)
    for before, after in zip(unrun.cells, assembled.cells, strict=True):
        if before.cell_type != "markdown":
            continue
        pattern = "(.+?)".join(re.escape(part) for part in role.split(before.source))
        match = re.fullmatch(pattern, after.source, re.S)
        assert match, (before.source[:300], after.source[:300])
        values += match.groups()
    return values


@pytest.mark.book
def test_reader_notebooks_take_the_builds_outputs(build):
    """After a build, every reader notebook is assembled from the build's executed
    chapter (no chapter runs again), and each number it shows is on the built
    page too; each figure cell holds the glued figure or player."""
    from sgdlab.notebooks.reader import reader_notebook

    # The build's outcome is tests/test_book.py's to judge; here, each chapter
    # must have been executed by it.
    for chapter in CHAPTERS:
        said = []
        nb = reader_notebook(chapter, ROOT / "book", log=said.append)
        assert said == [
            f"{chapter}: outputs from the build "
            f"(_build/jupyter_execute/book/{chapter}.ipynb)"
        ], said
        unrun = reader_notebook(chapter, ROOT / "book", execute=False)
        page = (ROOT / "_build" / "html" / "book" / f"{chapter}.html").read_text()
        text = html.unescape(re.sub(r"<[^>]+>", " ", page))
        text = text.translate(SMART_QUOTES)  # Sphinx curls the page's quotes
        values = _filled_values(unrun, nb)
        assert values, chapter
        for value in values:
            if not re.search(r"[*_`$\[\n<]", value):  # plain text, not Markdown
                assert value in text, (chapter, value)
        figures, _ = _page_counts(chapter)
        shown = [c for c in nb.cells if "reader-figure" in c.metadata.get("tags", [])]
        assert len(shown) == figures
        for cell in shown:
            [output] = cell.outputs
            assert {"image/svg+xml", "image/png", "text/html"} & set(output.data)


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
def binder(tmp_path_factory, build):
    if not (BIN / "jupyter-lab").exists():
        pytest.fail("jupyterlab is not installed: pip install -r requirements-test.txt")
    chromium = os.environ.get("SGDLAB_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        message = "Debian chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # The build's outcome is tests/test_book.py's to judge; here, every chapter
    # must have been executed by it (postBuild says so below).
    assert (ROOT / "_build" / "jupyter_execute").is_dir(), build[1][-2000:]
    tmp = tmp_path_factory.mktemp("binder")
    repo, app = tmp / "repo", tmp / "lab-app"
    repo.mkdir(), app.mkdir()
    _copy_repository(repo)
    # This session's build, as a contributor has it after `jupyter-book build .`
    # (ignored by git, so git sees no change).
    shutil.copytree(
        ROOT / "_build" / "jupyter_execute", repo / "_build" / "jupyter_execute"
    )
    stamp = Path("_build") / ".jupyter_cache.sgdlab-fingerprint"
    shutil.copy(ROOT / stamp, repo / stamp)
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
    env, pip_log = _post_build_env(tmp, repo, app)
    if SELECTED != list(CHAPTERS):
        env["SGDLAB_READER_CHAPTERS"] = ",".join(SELECTED)
    started = time.monotonic()
    post_build = subprocess.run(
        ["bash", ".binder/postBuild"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=3000,
    )
    post_build_s = time.monotonic() - started
    assert post_build.returncode == 0, (
        post_build.stdout[-3000:] + post_build.stderr[-3000:]
    )
    assert pip_log.read_text() == "install --no-deps -e .\n"
    for chapter in SELECTED:  # assembled from the build: no chapter ran again
        assert f"{chapter}: outputs from the build" in post_build.stderr, (
            post_build.stderr[-3000:]
        )
    print(f"\npostBuild: {post_build_s:.1f} s for {len(SELECTED)} chapter(s)")
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


# Cleared first: the notebook opens with the build's outputs and execution counts.
_RUN_ALL = """async () => {
  const app = window.jupyterapp, panel = app.shell.currentWidget;
  await panel.context.ready; await panel.sessionContext.ready;
  await app.commands.execute('notebook:clear-all-cell-outputs');
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


def _look(page) -> dict:
    """What the reader sees in the open notebook: its cells' state, its text and
    the rendered Markdown with what its folded solutions hold."""
    # The kernel the notebook names, started (JupyterLab starts it on opening).
    page.evaluate("""async () => { const panel = window.jupyterapp.shell.currentWidget;
        await panel.context.ready; await panel.sessionContext.ready; }""")
    page.wait_for_function(
        """() => window.jupyterapp.shell.currentWidget.sessionContext
            .kernelDisplayName !== 'No Kernel'""",
        timeout=120_000,
    )
    # Every cell attached: JupyterLab renders long notebooks lazily.
    page.evaluate("""async () => { const nb = window.jupyterapp.shell.currentWidget.content;
        for (let i = 0; i < nb.widgets.length; i++) { await nb.scrollToItem(i); } }""")
    state = page.evaluate(_STATE)
    state["first"] = page.evaluate(
        """() => window.jupyterapp.shell.currentWidget.content.model.cells
            .get(0).sharedModel.getSource()"""
    )
    state["text"] = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.node.innerText"
    )
    state["markdown"] = page.evaluate("""() => Array.from(window.jupyterapp.shell
        .currentWidget.content.node.querySelectorAll('.jp-RenderedMarkdown'))
        .map(n => n.textContent).join('\\n')""")
    return state


def _reads_like_the_page(chapter: str, state: dict) -> None:
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
    text, everything = state["text"], state["markdown"]
    assert "Shut Down Kernel" in state["first"]  # the first cell's note
    assert not MYST.search(text), MYST.search(text)
    for stray in (
        "{glue",
        "{numref}",
        "{doc}",
        "{download}",
        "{cite",
        ":::",
        "exercise-start",
        "computed when you run the cells",
    ):
        assert stray not in text, stray
    # Listings are code: the package's source under "# from code/...".
    listings = (ROOT / "book" / f"{chapter}.md").read_text().count("{literalinclude}")
    assert everything.count("# from code/sgdlab/") == listings
    for listing in everything.split("# from code/sgdlab/")[1:]:
        assert re.match(r"\S+\.py\s*\n\s*(def |class |@|\w+ = )", listing), listing[
            :200
        ]


@pytest.mark.book
@pytest.mark.parametrize("chapter", SELECTED)
def test_launched_chapter_reads_like_the_page(binder, chapter):
    """Opened from its launch URL, the chapter shows the build's numbers, figures
    and players with no cell run; in the chapters of ``RUN``, Run All (as a
    reader does) gives a page that reads the same, with no error."""
    urlpath = urlparse(launch_url(chapter)).query.split("urlpath=")[1]
    context, page = _open(binder, urlpath)
    try:
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        seen = [_look(page)]
        if chapter in RUN:
            page.evaluate(_RUN_ALL)
            page.wait_for_function(_DONE, timeout=900_000, polling=1000)
            seen.append(_look(page))
        if os.environ.get("SGDLAB_BINDER_SCREENSHOTS"):
            page.evaluate(
                "() => window.jupyterapp.shell.currentWidget.content.scrollToItem(12)"
            )
            page.wait_for_timeout(1000)
            page.screenshot(
                path=f"{os.environ['SGDLAB_BINDER_SCREENSHOTS']}/{chapter}.png"
            )
        page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()"
        )
    finally:
        context.close()
    for state in seen:
        _reads_like_the_page(chapter, state)
    # The notebook file keeps the reader notebooks' kernel.
    saved = json.loads((binder["repo"] / urlpath.split("lab/tree/")[1]).read_text())
    assert saved["metadata"]["kernelspec"]["display_name"] == "Python 3 (ipykernel)"


@pytest.mark.book
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
