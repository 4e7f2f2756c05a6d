"""What GitHub Pages and Binder readers get: the Binder environment, the launch
links' targets, the licence and the citation file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / ".binder"


def _chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [
        c["file"] for part in toc["parts"] for c in part["chapters"]
    ]
    return [
        f for f in files if (ROOT / f"{f}.md").read_text().startswith("---\njupytext")
    ]


def test_binder_installs_cpu_torch_jupytext_and_the_book():
    lines = [
        line.split("#")[0].strip()
        for line in (BINDER / "requirements.txt").read_text().splitlines()
    ]
    lines = [line for line in lines if line]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    root_pin = re.search(
        r"^torch==(\S+)", (ROOT / "requirements.txt").read_text(), re.M
    ).group(1)
    assert f"torch=={root_pin}+cpu" in lines, (
        "Binder's torch must be the CPU build of the same version"
    )
    assert "-r ../requirements.txt" in lines  # the book's own pins, sgdlab included
    assert any(line.startswith("jupytext") for line in lines)
    assert any(line.startswith("jupyterlab") for line in lines)
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"


def test_binder_opens_chapters_as_notebooks_and_other_markdown_as_markdown(tmp_path):
    """postBuild writes each chapter as a notebook beside it; no viewer override
    makes README, intro or grading open as (broken) notebooks; download links work."""
    import importlib.util
    import shutil

    from sgdlab.grading.notebooks import write_all

    assert not (BINDER / "overrides.json").exists()
    post_build = (BINDER / "postBuild").read_text()
    assert post_build.startswith("#!/bin/bash")
    assert "python .binder/make_notebooks.py book" in post_build
    assert "sgdlab notebooks --out _build/notebooks" in post_build
    assert (BINDER / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"

    spec = importlib.util.spec_from_file_location(
        "make_notebooks", BINDER / "make_notebooks.py"
    )
    make_notebooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_notebooks)
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book", book)
    written = make_notebooks.main(book)
    assert sorted(p.stem for p in written) == sorted(Path(c).name for c in _chapters())
    write_all(tmp_path / "_build" / "notebooks", book)
    for path in written:
        notebook = json.loads(path.read_text())
        assert notebook["metadata"]["kernelspec"]["name"] == "python3"
        markdown = "".join(
            "".join(c["source"])
            for c in notebook["cells"]
            if c["cell_type"] == "markdown"
        )
        assert "{download}" not in markdown, path.name
        targets = re.findall(r"\]\((\.\./_build/notebooks/[^)]+)\)", markdown)
        assert len(targets) >= 2, f"{path.name}: student and instructor links {targets}"
        for target in targets:
            assert (book / target).resolve().is_file(), (
                f"{path.name}: dead link {target}"
            )
    plain = [p for p in book.glob("*.md") if not make_notebooks.is_chapter(p)]
    assert plain and not any(p.with_suffix(".ipynb").exists() for p in plain)


@pytest.mark.parametrize("chapter", _chapters())
def test_every_launch_target_is_a_runnable_notebook(chapter):
    """The launch button opens ``<chapter>.md``; jupytext must read it as a Python notebook."""
    notebook = jupytext.read(ROOT / f"{chapter}.md")
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code) >= 3
    assert any("sgdlab" in cell.source for cell in code)


def test_launch_buttons_are_configured_for_binder_and_jupyterlab_only():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    launch = config["launch_buttons"]
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert launch["notebook_interface"] == "jupyterlab"
    assert not launch.get("colab_url"), (
        "Colab cannot open .md chapters; offer it only with .ipynb"
    )


def test_licence_and_citation():
    licence = (ROOT / "LICENSE").read_text()
    assert "Creative Commons Attribution 4.0" in licence and "MIT License" in licence
    readme = (ROOT / "README.md").read_text()
    assert "CC BY 4.0" in readme and "MIT" in readme
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    for key in ("cff-version", "message", "title", "authors"):
        assert citation[key], key
    assert set(citation["license"]) == {"CC-BY-4.0", "MIT"}
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert citation["repository-code"] == config["repository"]["url"]


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(python -m pip install [^\n]+)\n```", readme)


def test_readme_install_commands_get_pytorchs_cpu_build():
    """From PyPI alone, torch==2.13.0 on Linux is the CUDA build (several GB)."""
    build, test = _readme_commands()[:2]
    for command in (build, test):
        assert "--extra-index-url https://download.pytorch.org/whl/cpu" in command
    assert "-r requirements.txt" in build and "jupyter-book build ." in build
    assert "-r requirements-test.txt" in test and "python -m pytest" in test


def test_ci_runs_the_readmes_test_command_verbatim():
    test = _readme_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci
    assert "PIP_RETRIES=0" in (ROOT / ".ci" / "run").read_text()
