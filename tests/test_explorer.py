"""Tests of sgdlab.explorer: every embedded run is the run sgdlab computes from its
record, and the explorer, opened in a real browser, draws the run its controls name.

The browser tests open an HTML page written from the same functions, with the same
arguments, that chapters 4 and 6 call; they need Debian's chromium (skipped without it,
as the site tests are).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import test_site
from sgdlab import explorer, landscape, metrics, optim, regression
from sgdlab.player import Control, explorer_player

DESCRIPTION = "An explorer whose controls choose the run that the panels draw."


@pytest.fixture(scope="module")
def line():
    # chapter 4: explorer.line_explorer(theta0=(-1.0, 1.0), steps=100, description=...)
    return explorer.line_explorer(
        theta0=(-1.0, 1.0), steps=100, description=DESCRIPTION
    )


@pytest.fixture(scope="module")
def race():
    # chapter 6: explorer.optimizer_explorer(start=(-4.0, 5.0), steps=300, target=0.1, ...)
    return explorer.optimizer_explorer(
        start=(-4.0, 5.0), steps=300, target=0.1, description=DESCRIPTION
    )


def _spec(fragment: str) -> dict:
    payload = re.search(
        r'<script class="sgdlab-data" type="application/json">(.*?)</script>',
        fragment,
        re.S,
    )
    return json.loads(payload.group(1).replace("<\\/", "</"))


def _recompute(record: dict):
    """The run, from the record's inputs alone, with sgdlab (not explorer.rerun)."""
    if record["call"] == "regression.descend":
        data = regression.make_line_data(**record["data"])
        path = regression.descend(
            data,
            record["theta0"],
            lr=record["lr"],
            steps=record["steps"],
            batch_size=record["batch_size"],
            seed=record["seed"],
        )
        return path.thetas, path.losses
    surface = getattr(landscape, record["surface"])
    optimizer = getattr(optim, record["optimizer"])
    run = landscape.trajectory(
        surface,
        record["start"],
        lambda p: optimizer(p, lr=record["lr"], **record["kwargs"]),
        record["steps"],
    )
    return run.points, run.losses


def _drawable(values):
    clip = explorer.DRAW_CLIP
    return np.clip(
        np.nan_to_num(values, nan=clip, posinf=clip, neginf=-clip), -clip, clip
    )


@pytest.mark.slow
@pytest.mark.parametrize("which", ["line", "race"])
def test_sampled_runs_are_reproduced_from_their_records(which, request):
    ex = request.getfixturevalue(which)
    spec = _spec(ex.html)
    assert spec["runs"] == [json.loads(json.dumps(r)) for r in ex.records]
    for run in spec["runs"][:: 7 if which == "line" else 5]:
        points, losses = _recompute(run)
        exact = np.array([np.nan if v is None else v for v in run["exact"]])
        final = np.array([*points[-1], losses[-1]])
        finite = np.isfinite(final)
        assert np.array_equal(np.isfinite(exact), finite)
        np.testing.assert_allclose(exact[finite], final[finite], rtol=1e-9, atol=1e-12)
        # what the page draws: the same run, rounded to 4 (parameters) and 3 digits (loss)
        np.testing.assert_allclose(
            run["theta"], _drawable(points).ravel(), rtol=6e-4, atol=1e-9
        )
        np.testing.assert_allclose(run["loss"], _drawable(losses), rtol=6e-3, atol=1e-9)


def test_line_stats_follow_the_books_conventions(line):
    for record, path in zip(line.records, line.results, strict=True):
        assert record["stats"]["reached"] == metrics.first_reached(path.losses, 0.5)
        assert record["stats"]["diverged"] == bool(
            not path.losses[-1] <= path.losses[0]
        )
        assert f"final MSE {record['stats']['final']}" in record["summary"]


def test_race_stats_follow_the_books_conventions(race):
    for record, run in zip(race.records, race.results, strict=True):
        assert record["stats"]["reached"] == metrics.first_reached(run.losses, 0.1)
        assert record["stats"]["reached"] == run.steps_to(
            0.1
        )  # the Trajectory's own rule
    # the minimum of the test surface is near (0, -4.6): a run that ends on the far
    # plateau (RMSProp at lr 2.5, chapter 6) diverged; Adam at 0.3 did not
    by = {(r["label"], r["lr"]): r for r in race.records}
    assert by[("RMSProp", 2.5)]["stats"]["diverged"]
    assert not by[("Adam", 0.3)]["stats"]["diverged"]


def test_views_cover_the_grid_and_name_matching_runs(line, race):
    spec = _spec(line.html)
    lrs, sizes, seeds = explorer.LINE_LRS, explorer.LINE_BATCHES, explorer.LINE_SEEDS
    assert len(spec["views"]) == len(lrs) * len(sizes) * len(seeds) >= 6 * 6 * 3
    for key, (shown, focus) in spec["views"].items():
        i, j, k = map(int, key.split(","))
        run = spec["runs"][shown[focus]]
        assert (run["lr"], run["batch_size"]) == (lrs[i], sizes[j])
        assert run["seed"] == (seeds[k] if sizes[j] < 100 else seeds[0])
    spec = _spec(race.html)
    for key, (shown, focus) in spec["views"].items():
        o, i, k = map(int, key.split(","))
        runs = [spec["runs"][s] for s in shown]
        assert [r["optimizer"] for r in runs] == ["GD", "GD", "RMSProp", "Adam"]
        assert {r["lr"] for r in runs} == {explorer.SURFACE_LRS[i]}
        assert runs[1]["kwargs"] == {"momentum": explorer.MOMENTA[k]} and focus == o


def test_weight_and_first_paint(line, race):
    for ex, budget in ((line, 600_000), (race, 450_000)):
        assert ex.nbytes < budget, ex.nbytes
        # the data come after everything the reader sees, and readers without scripts
        # get the static grid with an alt text
        html = ex.html
        assert html.index('class="sgdlab-data"') > html.index("<noscript>")
        assert html.index("<noscript>") > html.index('class="sgdlab-panels')
        static = re.search(r"<noscript>(.*?)</noscript>", html, re.S).group(1)
        assert re.search(
            r'<img src="data:image/svg\+xml;base64,[^"]+" alt="[^"]{80,}"', static
        )


def test_the_learning_rate_scale_marks_the_stability_limit(line):
    data = regression.make_line_data(**explorer.LINE_DATA)
    limit = 2 / np.linalg.eigvalsh(regression.hessian(data)).max()
    assert f"2/λ_max = {limit:.3f}</span>" in line.html
    # between the rates 0.9 and 1.2 of the scale (indices 6 and 7 of 8)
    position = 6 + np.log(limit / 0.9) / np.log(1.2 / 0.9)
    assert f'end" style="right:{100 - 100 * position / 7:.1f}%">2/λ_max' in line.html


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lrs": (0.1,)}, "at least 2"),
        ({"lrs": (0.1, -1.0)}, "positive"),
        ({"lrs": (0.3, 0.1)}, "increasing"),
        ({"batch_sizes": (1, 500)}, "batch_size"),
        ({"steps": 0}, "steps"),
        ({"description": "short"}, "description"),
    ],
)
def test_bad_arguments_of_the_line_explorer(kwargs, message):
    args = {
        "lrs": (0.01, 0.1),
        "batch_sizes": (10, 100),
        "seeds": (1, 2),
        "steps": 5,
        "description": DESCRIPTION,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        explorer.line_explorer(**args)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"momenta": (0.5, 1.0)}, "below 1"), ({"surface": "nope"}, "surface")],
)
def test_bad_arguments_of_the_optimizer_explorer(kwargs, message):
    args = {"lrs": (0.1, 0.3), "steps": 3, "description": DESCRIPTION, **kwargs}
    with pytest.raises(ValueError, match=message):
        explorer.optimizer_explorer(**args)


def test_rerun_refuses_an_unknown_record():
    with pytest.raises(ValueError, match="call"):
        explorer.rerun({"call": "something.else"})


_RUN = {
    "label": "a",
    "color": "#000",
    "steps": 1,
    "theta": [0, 0, 1, 1],
    "loss": [1, 0],
}


@pytest.mark.parametrize(
    "kind, runs, message",
    [
        ("knob", [], "kind"),
        ("range", [], "runs must be"),
        ("range", [_RUN], "views must cover"),
    ],
)
def test_controls_are_checked(kind, runs, message):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    control = Control("lr", "learning rate", ("1", "2"), kind=kind)
    with pytest.raises(ValueError, match=message):
        explorer_player(
            fig,
            [ax],
            ["path"],
            runs=runs,
            views={},
            description=DESCRIPTION,
            controls=[control],
        )
    plt.close(fig)


# --- In a real browser -------------------------------------------------------------------


@pytest.fixture(scope="module")
def page_url(line, race, tmp_path_factory):
    path = tmp_path_factory.mktemp("explorers") / "explorers.html"
    path.write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Explorers</title></head><body><main><h1>Explorers</h1>"
        f"<h2>The line fit</h2>{line.html}<h2>The race</h2>{race.html}</main></body></html>",
        encoding="utf-8",
    )
    return path.as_uri()


def _drawn(page, root, panel: int):
    """The run in focus as drawn in ``panel``: its polyline's points mapped back to
    data coordinates with the panel's axes (the focus is drawn last, on top)."""
    points = root.evaluate(
        "(el, i) => { const lines = el.querySelectorAll('.sgdlab-panels svg')[i]"
        ".querySelectorAll('g polyline'); return lines[lines.length - 1].getAttribute('points'); }",
        panel,
    )
    return np.array([[float(v) for v in p.split(",")] for p in points.split()])


def _to_data(pixels, ax):
    x0, y0, w, h = ax["box"]
    lx, ly = ax["xlim"], ax["ylim"]
    f = np.log10 if ax["logy"] else (lambda v: np.asarray(v, dtype=float))
    x = lx[0] + (pixels[:, 0] - x0) / w * (lx[1] - lx[0])
    fy = f(ly[0]) + (1 - (pixels[:, 1] - y0) / h) * (f(ly[1]) - f(ly[0]))
    return x, 10**fy if ax["logy"] else fy


def _check_drawn(page, root, spec, path_panel, loss_panel):
    """The drawn run is the one sgdlab computes for the record the view names."""
    shown, focus = spec["views"][root.get_attribute("data-view-key")]
    record = spec["runs"][shown[focus]]
    assert int(root.get_attribute("data-run")) == shown[focus]
    points, raw_losses = _recompute(record)
    points, losses = _drawable(points), _drawable(raw_losses)
    x, y = _to_data(_drawn(page, root, path_panel), spec["axes"][path_panel])
    np.testing.assert_allclose(x, points[:, 0], rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(y, points[:, 1], rtol=2e-3, atol=2e-3)
    steps, drawn_loss = _to_data(
        _drawn(page, root, loss_panel), spec["axes"][loss_panel]
    )
    np.testing.assert_allclose(steps, np.arange(len(losses)), atol=1e-3)
    np.testing.assert_allclose(drawn_loss, np.maximum(losses, 1e-12), rtol=1e-2)
    summary = root.locator(".sgdlab-summary").text_content()
    assert summary == record["summary"]
    final = f"{raw_losses[-1]:.3g}" if np.isfinite(raw_losses[-1]) else "overflow"
    assert final in summary and ("diverged." in summary) == record["stats"]["diverged"]
    return record


# JS run before each check: the key of the view the controls name, from the controls.
_KEY = """el => Array.from(el.querySelectorAll('[data-param]')).map(c => c.value).join(',')"""


def _move_every_control(page, root, spec, path_panel, loss_panel, check_inputs):
    """Every value of every control, the others left where they are; the keyboard
    moves the sliders (arrow keys), the selects are chosen by value."""
    for param in spec["params"]:
        control = root.locator(f"[data-param='{param['name']}']")
        tag = control.evaluate("c => c.tagName")
        n = len(param["labels"])
        if tag == "SELECT":
            order = list(range(n))
        else:
            control.focus()
            page.keyboard.press("Home")
            order = list(range(n))
        for value in order:
            if tag == "SELECT":
                control.select_option(index=value)
            elif value > 0:
                control.focus()
                page.keyboard.press("ArrowRight")
            assert control.input_value() == str(value), (param["name"], tag)
            if tag != "SELECT":
                assert control.get_attribute("aria-valuetext") == param["labels"][value]
            root.evaluate(
                "(el, key) => el.setAttribute('data-view-key', key)",
                root.evaluate(_KEY),
            )
            record = _check_drawn(page, root, spec, path_panel, loss_panel)
            check_inputs(param["name"], param["labels"][value], record)


@pytest.mark.slow
def test_every_control_draws_the_run_sgdlab_computes(browser, page_url, line, race):
    page = browser.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(page_url)
    explorers = page.locator(".sgdlab-explorer")
    assert explorers.count() == 2

    def line_inputs(name, label, record):
        field = {"lr": "lr", "batch": "batch_size", "seed": "seed"}[name]
        if name != "seed" or record["batch_size"] < 100:  # full batch: one order
            assert str(record[field]) == label

    def race_inputs(name, label, record):
        if name == "optimizer":
            assert record["label"].startswith(label)
        elif name == "lr":
            assert str(record["lr"]) == label

    _move_every_control(page, explorers.nth(0), _spec(line.html), 1, 2, line_inputs)
    _move_every_control(page, explorers.nth(1), _spec(race.html), 0, 1, race_inputs)
    # the race's table lists the four runs of the view, the focus first in bold
    rows = explorers.nth(1).locator("tbody tr")
    assert rows.count() == 4 and explorers.nth(1).locator("tbody tr.focus").count() == 1
    # the player replays the chosen run from step 0
    root = explorers.nth(0)
    root.locator("button.sgdlab-play").click()
    page.wait_for_function(
        "el => el.dataset.frame !== '100'", arg=root.element_handle()
    )
    assert not problems, problems
    page.close()


def test_no_serious_accessibility_violations(browser, page_url):
    from axe_playwright_python.sync_playwright import Axe

    page = browser.new_page()
    page.goto(page_url)
    results = Axe().run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} - {v['nodes'][0]['target']}"
        for v in results.response["violations"]
        if v["impact"] in ("critical", "serious")
    ]
    page.close()
    assert not serious, "\n".join(serious)


def test_explorers_fit_a_phone(browser, page_url):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    page.goto(page_url)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    boxes = page.evaluate(
        """() => Array.from(document.querySelectorAll(
              '.sgdlab-explorer img, .sgdlab-explorer input, .sgdlab-explorer select'))
              .map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right]; })"""
    )
    assert boxes and all(0 <= left and right <= 390 for left, right in boxes), boxes
    context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_each_overlay_lies_on_its_panels_image(browser, page_url, width):
    """The overlay a player draws on is exactly as large as its panel's image, at a
    phone's and a laptop's width: a panel is not stretched to the height of its row
    (which would move the drawn path off the axes)."""
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(page_url)
    boxes = page.evaluate(
        """() => Array.from(document.querySelectorAll('.sgdlab-panels img'))
              .filter(i => i.checkVisibility()).map(img => {
                const a = img.getBoundingClientRect(),
                      b = img.nextElementSibling.getBoundingClientRect();
                return [a.top - b.top, a.height - b.height, a.width - b.width]; })"""
    )
    context.close()
    assert len(boxes) >= 2
    assert all(max(map(abs, box)) < 0.5 for box in boxes), boxes


def test_without_scripts_the_static_grid_shows(browser, page_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(page_url)
    images = page.evaluate(
        """() => Array.from(document.querySelectorAll('.sgdlab-explorer img'))
              .filter(i => i.alt.startsWith('Small multiples'))
              .map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0}))"""
    )
    context.close()
    assert len(images) == 2 and all(
        i["ok"] and "Small multiples" in i["alt"] for i in images
    )


# --- On the built pages (after sgdlab_site's post-processing) -----------------------------

site = test_site.site  # the built book, served under the site's prefix


@pytest.mark.book
@pytest.mark.parametrize(
    "chapter, panels", [("watching-sgd", (1, 2)), ("adaptive-optimizers", (0, 1))]
)
def test_the_built_explorers_survive_the_site_rewrite(browser, site, chapter, panels):
    page = browser.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(site + f"book/{chapter}.html", wait_until="networkidle")
    root = page.locator(".sgdlab-explorer")
    assert root.count() == 1
    html = (test_site.HTML / "book" / f"{chapter}.html").read_text()
    block = html[html.index('class="sgdlab-explorer"') :]
    # the runs are a file, fetched when the explorer nears the screen
    src = re.search(
        r'<script class="sgdlab-data" type="application/json" '
        r'data-src="\.\./(_images/explorer-[0-9a-f]+\.json)"></script>',
        block,
    )
    assert src, block[:2000]
    spec = json.loads((test_site.HTML / src.group(1)).read_text())
    assert root.get_attribute("data-run") is None  # not fetched yet: off screen
    # the panels and the static grid are lazy files now, with their alt texts
    static = re.search(r"<noscript>(.*?)</noscript>", block, re.S).group(1)
    assert re.search(
        r'<img src="\.\./_images/inline-[0-9a-f]+\.svg" alt="Small multiples', static
    )
    root.scroll_into_view_if_needed()
    page.wait_for_function(
        "el => el.dataset.run !== undefined || el.dataset.error !== undefined",
        arg=root.element_handle(),
    )
    assert root.get_attribute("data-error") is None
    page.evaluate(
        """() => Promise.all(Array.from(document.querySelectorAll('.sgdlab-explorer img'))
                 .map(i => { i.loading = 'eager'; return i.decode(); }))"""
    )
    slider = root.locator("[data-param='lr']")
    slider.focus()
    page.keyboard.press("End")
    root.evaluate(
        "(el, key) => el.setAttribute('data-view-key', key)", root.evaluate(_KEY)
    )
    record = _check_drawn(page, root, spec, *panels)
    assert (
        str(record["lr"])
        == spec["params"][1 if chapter != "watching-sgd" else 0]["labels"][-1]
    )
    assert not problems, problems
    page.close()


@pytest.mark.book
def test_an_explorer_without_its_runs_says_so_and_shows_the_grid(browser, site):
    """The runs' file cannot be fetched (a page opened from disk, a lost
    connection): the summary says so and the static grid takes the runs' place."""
    page = browser.new_page()
    page.route("**/_images/explorer-*.json", lambda route: route.abort())
    page.goto(site + "book/watching-sgd.html", wait_until="load")
    root = page.locator(".sgdlab-explorer")
    root.scroll_into_view_if_needed()
    page.wait_for_function(
        "el => el.dataset.error !== undefined", arg=root.element_handle()
    )
    assert "could not be loaded" in root.locator(".sgdlab-summary").text_content()
    grid = root.locator("img[alt^='Small multiples']")
    assert grid.count() == 1
    grid.scroll_into_view_if_needed()
    assert grid.evaluate("i => i.decode().then(() => i.naturalWidth > 0)")
    page.close()
