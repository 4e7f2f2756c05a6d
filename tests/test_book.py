"""The whole book, built strictly, as CI and readers build it.

One build (``jupyter-book build . --all -W -n --keep-going``): a failing cell,
a warning or a broken reference fails it. ``--all`` makes Sphinx re-read every
page, so a warning in a page that did not change is still reported; the
execution cache still spares re-running unchanged chapters (and
``_ext/sgdlab_cache.py`` empties it when code/ or data/ changed).

The other tests read what that build wrote and check the book's promises:
glued numbers equal what ``sgdlab`` computes, every figure has alt text and a
caption, exercises have solutions, pages stay light.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CHAPTERS = [
    "epochs-and-minibatches",
    "epoch-rmse",
    "batch-size-and-time",
    "watching-sgd",
    "landscape",
    "adaptive-optimizers",
    "sgd-and-schedules",
]
PAGE_BUDGET = 3_000_000  # bytes, with everything a page loads from the site
BUDGETS = {"watching-sgd.html": 4_000_000}  # the animation chapter

pytestmark = pytest.mark.book


def test_strict_build_succeeds_without_warnings(build):
    code, log = build
    assert code == 0, log[-5000:]
    assert "build succeeded" in log
    # Kernels get CurveZMQ keys (_ext/sgdlab_kernel.py), so even ipykernel's
    # "running over TCP without encryption" warning must be absent.
    problems = [
        line for line in log.splitlines() if re.search(r"WARNING|ERROR|Traceback", line)
    ]
    assert not problems, "\n".join(problems)
    assert not list((HTML / "reports").glob("**/*.log")), (
        "execution reports left behind"
    )


def _pages():
    return [
        p
        for p in HTML.rglob("*.html")
        if not p.relative_to(HTML).parts[0].startswith("_")
    ]


def _glue(chapter):
    path = ROOT / "_build" / "jupyter_execute" / "book" / f"{chapter}.glue.json"
    data = json.loads(path.read_text())
    return {key: value["data"] for key, value in data.items()}


def test_every_image_has_alt_text(build):
    pages = _pages()
    assert len(pages) >= 3
    for page in pages:
        html = page.read_text()
        for tag in re.findall(r"<img[^>]*>", html):
            alt = re.search(r'alt="([^"]*)"', tag)
            assert alt and alt.group(1).strip(), f"{page.name}: {tag[:120]}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_figures_are_numbered_captioned_and_drawn(build, chapter):
    html = (HTML / "book" / f"{chapter}.html").read_text()
    figures = re.findall(
        r'<figure[^>]*id="(fig-[^"]+)"[^>]*>(.*?)</figure>', html, re.S
    )
    assert len(figures) >= 3
    for name, body in figures:
        assert "<figcaption>" in body, name
        img = re.search(r'<img[^>]+alt="([^"]+)"[^>]+src="[^"]+\.svg"', body)
        assert img, f"{name} has no image with alt text"
        assert len(img.group(1)) > 60, (
            f"{name}: alt text too short to describe the figure"
        )
        assert 'class="caption-number"' in body, f"{name} is not numbered"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_glue_is_missing(build, chapter):
    source = (ROOT / "book" / f"{chapter}.md").read_text()
    used = set(re.findall(r"\{glue:(?:text|figure|md)\}`([^`:]+)", source))
    used |= set(re.findall(r"(?::::|```)\{glue:figure\} (\S+)", source))
    assert used <= set(_glue(chapter)), used - set(_glue(chapter))


def test_chapter1_numbers_are_what_sgdlab_computes(build, headline):
    glue = _glue("epochs-and-minibatches")
    full, mini = headline
    assert int(glue["ch1-mini-reached"]["text/plain"]) == mini.epochs_to_reach(
        full.epoch_loss[-1]
    )
    assert float(glue["ch1-full-final"]["text/plain"]) == pytest.approx(
        full.epoch_loss[-1]
    )
    assert float(glue["ch1-mini-final"]["text/plain"]) == pytest.approx(
        mini.epoch_loss[-1]
    )
    assert int(glue["ch1-features"]["text/plain"]) == 12
    assert float(glue["ch1-acc-diff"]["text/plain"]) < 1e-12


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_exercises_have_executed_solutions(build, chapter):
    html = (HTML / "book" / f"{chapter}.html").read_text()
    exercises = re.findall(r'class="[^"]*\bexercise\b', html)
    solutions = re.findall(r'class="[^"]*\bsolution\b[^"]*\bdropdown\b', html)
    assert len(exercises) >= 3 and len(solutions) >= len(exercises)
    source = (ROOT / "book" / f"{chapter}.md").read_text()
    solution_blocks = re.findall(
        r":::\{solution-start\}.*?:::\{solution-end\}", source, re.S
    )
    assert sum("{code-cell}" in block for block in solution_blocks) >= 1


def test_optimizer_chapters_state_what_sgdlab_computes(build):
    """Spot checks of the optimizer pages against fresh runs and closed forms."""
    from sgdlab import landscape, optim

    glue = _glue("landscape")
    run = landscape.trajectory(
        landscape.pathological_loss, (-4.0, 5.0), lambda p: optim.GD(p, lr=1.0), 300
    )
    assert float(glue["land-gd-1.0-final"]["text/plain"]) == pytest.approx(
        run.final_loss
    )
    assert (
        float(glue["land-saddle-lo"]["text/plain"])
        < 0
        < float(glue["land-saddle-hi"]["text/plain"])
    )

    glue = _glue("adaptive-optimizers")
    assert float(glue["ad-rms-t1"]["text/plain"]) == pytest.approx(
        1 / (1 - 0.99) ** 0.5, rel=1e-6
    )
    assert float(glue["ad-rms-t10"]["text/plain"]) == pytest.approx(
        (1 - 0.99**10) ** -0.5, rel=1e-6
    )
    assert float(glue["ad-adam-t1"]["text/plain"]) == pytest.approx(1.0, abs=1e-6)
    assert float(glue["ad-adam-uncorrected"]["text/plain"]) == pytest.approx(
        0.1 / 0.001**0.5
    )
    assert float(glue["ad-w-ratio"]["text/plain"]) == pytest.approx(
        (1 - 0.01 * 0.1) ** 100
    )

    glue = _glue("sgd-and-schedules")
    assert (
        2.0 <= float(glue["lr-surface-min"]["text/plain"]) <= 2.5
    )  # the plan's "about 2-2.5"
    assert float(glue["sched-buggy0"]["text/plain"]) == 1.5


def test_buttons_and_launch_links(build):
    html = (HTML / "book" / "epochs-and-minibatches.html").read_text()
    assert "mybinder.org/v2/gh/" in html and "urlpath=lab" in html
    assert "download-notebook-button" in html or "epochs-and-minibatches.ipynb" in html
    assert "github.com/sgdlab-course/epochs-and-minibatches/issues" in html


def test_pages_are_light(build):
    from pageweight import page_weight

    for page in _pages():
        weight = page_weight(page)
        budget = BUDGETS.get(page.name, PAGE_BUDGET)
        assert weight.total <= budget, f"{page.name}: {weight.total / 1e6:.2f} MB"
        assert not weight.missing, f"{page.name} loads missing files {weight.missing}"


def test_animations_are_in_the_page_with_their_controls(build):
    html = (HTML / "book" / "watching-sgd.html").read_text()
    players = re.findall(r'<div class="sgdlab-animation" id="([^"]+)"', html)
    assert len(players) == 4
    for uid in players:
        block = html[html.index(f'id="{uid}"') :]
        block = block[: block.index("</script>\n</div>")]
        assert "<button" in block and 'type="range"' in block
        # the panels' images are files (sgdlab_site takes them out of the HTML), lazy
        assert re.search(
            r'<img src="\.\./_images/inline-[0-9a-f]+\.svg" alt="[^"]{40,}"', block
        )
        assert 'loading="lazy"' in block


def test_batch_size_chapter_states_what_sgdlab_computes(build):
    """Chapter 3's glued figures agree with each other and with the theory."""
    from sgdlab import models, step_time

    glue = {
        k: float(v["text/plain"])
        for k, v in _glue("batch-size-and-time").items()
        if "text/plain" in v and re.fullmatch(r"-?[\d.e+-]+", v["text/plain"])
    }
    t0, t1 = glue["bt-t0-us"], glue["bt-t1-us"]
    assert glue["bt-balance"] == pytest.approx(t0 / t1, rel=1e-6)
    assert glue["bt-bstar"] == pytest.approx(
        step_time.optimal_batch_size(glue["bt-bnoise"], t0, t1), rel=1e-6
    )
    assert glue["bt-bcrit"] == pytest.approx(
        glue["bt-emin"] / glue["bt-smin"], rel=1e-6
    )
    assert glue["bt-mflop-row"] == pytest.approx(
        step_time.flops_per_row(models.make_digit_mlp()) / 1e6
    )
    assert glue["bt-dp-diff"] < 1e-5
    assert glue["bt-epoch-1"] > glue["bt-epoch-1024"]
    assert glue["bt-pz-acc-1"] > glue["bt-pz-acc-full"]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_graded_exercise_links_both_notebooks(build, chapter):
    import nbformat

    html = (HTML / "book" / f"{chapter}.html").read_text()
    for kind in ("student", "instructor"):
        links = re.findall(rf'href="([^"]*{chapter}-{kind}\.ipynb)"', html)
        assert links, f"{chapter} does not link its {kind} notebook"
        target = (HTML / "book" / links[0]).resolve()
        notebook = nbformat.read(target, 4)
        assert notebook.metadata["sgdlab"] == {"chapter": chapter, "kind": kind}


def _toc_files():
    """Every page of ``_toc.yml`` in reading order, and the numbered chapters."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages, chapters = [toc["root"]], []
    for part in toc["parts"]:
        for entry in part["chapters"]:
            pages.append(entry["file"])
            if part.get("numbered"):
                chapters.append(entry["file"])
    return [Path(p).name for p in pages], [Path(p).name for p in chapters]


def _section_links(page: str, section_id: str) -> list[str]:
    """Internal pages linked from one section of a built page, in order."""
    html = (HTML / "book" / f"{page}.html").read_text()
    match = re.search(
        rf'<section id="{section_id}"[^>]*>(.*?)(?=<section id=|</article>)', html, re.S
    )
    assert match, f"{page} has no section {section_id!r}"
    hrefs = re.findall(
        r'<a class="reference internal" href="([^"#]+)\.html', match.group(1)
    )
    return [Path(h).name for h in hrefs]


def test_chapter_list_matches_the_table_of_contents():
    pages, chapters = _toc_files()
    assert chapters == CHAPTERS


def test_what_comes_next_names_the_next_page_of_the_toc(build):
    pages, chapters = _toc_files()
    for chapter in chapters:
        following = pages[pages.index(chapter) + 1]
        links = _section_links(chapter, "what-comes-next")
        assert links, f"{chapter}: 'What comes next' links to no page"
        assert links[0] == following, (
            f"{chapter}: 'What comes next' points first to {links[0]}, "
            f"but the next page of _toc.yml is {following}"
        )
        earlier = set(pages[: pages.index(chapter) + 1])
        assert not earlier & set(links), (
            f"{chapter}: 'What comes next' points backwards"
        )


def test_intro_lists_every_chapter_with_its_link(build):
    _, chapters = _toc_files()
    links = _section_links("intro", "what-the-course-covers")
    assert [link for link in links if link in chapters] == chapters
    text = (HTML / "book" / "intro.html").read_text()
    assert "grows chapter by chapter" not in text


def test_source_material_pages_state_what_sgdlab_computes(build, boston):
    """Spot checks of the numbers added for the source material (issue 19)
    against closed forms and fresh runs."""
    import numpy as np
    from sgdlab import metrics, regression

    glue = _glue("watching-sgd")
    data = regression.make_line_data(seed=0)
    gd = regression.descend(data, (-1.0, 1.0), lr=0.1, steps=100)
    torch_gd = regression.descend_torch(data, (-1.0, 1.0), lr=0.1, steps=100)
    assert (
        float(glue["ch4-torch-gap"]["text/plain"])
        >= np.abs(gd.thetas - torch_gd.thetas).max()
    )
    assert float(glue["ch4-torch-gap"]["text/plain"]) < 1e-12
    # Without coupling (x centred) each parameter's steps to 90% follow from its
    # own curvature, (1 - lr*lambda)^t, whatever the start.
    x = data.x - data.x.mean()
    q = 1 - 0.1 * np.array([2 * np.mean(x * x), 2.0])
    pure = np.ceil(np.log(0.1 + 0.9 * q**100) / np.log(q)).astype(int)
    assert int(glue["ch4-pure-slope"]["text/plain"]) == pure[0]
    assert int(glue["ch4-pure-intercept"]["text/plain"]) == pure[1]

    glue = _glue("adaptive-optimizers")
    assert float(glue["ad-rms09-first"]["text/plain"]) == pytest.approx(
        0.1**-0.5, rel=1e-6
    )
    assert float(glue["ad-rms099-first"]["text/plain"]) == pytest.approx(10.0, rel=1e-6)
    assert int(glue["ad-rms09-settled"]["text/plain"]) == 17
    assert int(glue["ad-rms099-settled"]["text/plain"]) == 175
    assert float(glue["ad-mom-t1"]["text/plain"]) == pytest.approx(0.1)

    glue = _glue("epochs-and-minibatches")
    n = boston.n_rows
    assert float(glue["ch1-left-out"]["text/plain"]) == pytest.approx((1 - 1 / n) ** n)
    ratio = float(
        glue["ch1-epoch-ratio"]["text/plain"]
    )  # the headline seed is one of them
    assert float(glue["ch1-luck-ratio-lo"]["text/plain"]) <= ratio
    assert ratio <= float(glue["ch1-luck-ratio-hi"]["text/plain"])
    # The quoted stopping loop never stops; with last_loss updated it stops at
    # the first step that lowers the loss.
    assert int(glue["ch1-quoted-cap"]["text/plain"]) == 1000
    assert int(glue["ch1-quoted-steps"]["text/plain"]) == 2

    glue = _glue("epoch-rmse")
    assert float(glue["ch2-exact-100k"]["text/plain"]) == pytest.approx(
        float(metrics.expected_batch_rmse(100.0, 100_000))
    )
    assert float(glue["ch2-mae-sim"]["text/plain"]) == pytest.approx(
        (2 / np.pi) ** 0.5, abs=0.01
    )
    # The one-epoch partition halves the i.i.d. bias at b = N/2.
    assert float(glue["ch2-part-factor-253"]["text/plain"]) == pytest.approx(
        0.5, rel=0.01
    )
