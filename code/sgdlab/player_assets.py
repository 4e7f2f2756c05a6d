"""The web player's stylesheet and scripts, as the strings that
:mod:`sgdlab.player` writes into the page.

One stylesheet and one library script (``window.sgdlabPlayer``) shared by
every player, and the few lines that start an animation or an explorer. They
are kept apart from the Python that builds the HTML so that each reads whole.
"""

from __future__ import annotations

#: Panels side by side where each is at least about 13rem wide, else two or one
#: per row: at 390 px the four panels of a row would shrink their 10 pt labels to
#: 3 px. Container queries size the grid by the player's own width (the page's
#: column), not the window's. Where the player is narrow (a phone) and scripts run,
#: it shows one panel at a time, chosen by a row of tabs, with the play button
#: right under it; an explorer's stage (tabs, panel, play button) stays on screen
#: (sticky) while the reader scrolls through its controls. The panels' grid is never
#: taller than the window less what the player shows beside it
#: (``--sgdlab-reserve``, measured by the script, and ``--sgdlab-top``, a sticky
#: page header the page may declare): the whole player fits on a laptop's screen.
#: ``--sgdlab-aspect`` is a panel's width over its height; ``--sgdlab-span`` the
#: grid's columns over its rows. A panel is as tall as its image (not stretched to
#: its row, which would shift the overlay off the image). Touch targets are at
#: least 44 px.
_PLAYER_CSS = (
    ".sgdlab-animation,.sgdlab-explorer{container-type:inline-size}"
    ".sgdlab-explorer{text-align:left}"
    ".sgdlab-panels{display:grid;grid-template-columns:1fr;--sgdlab-span:1;"
    "margin-inline:auto;max-width:max(15rem,calc((100svh - var(--sgdlab-top,0px) - "
    "var(--sgdlab-reserve,4rem) - 1rem) * var(--sgdlab-aspect,1) * var(--sgdlab-span)))}"
    ".sgdlab-panels>div{align-self:start}"
    "@container (min-width:32rem){.sgdlab-panels{grid-template-columns:1fr 1fr}"
    ".sgdlab-panels.n2{--sgdlab-span:2}}"
    "@container (min-width:40rem){.sgdlab-panels.n3{grid-template-columns:repeat(3,1fr);"
    "--sgdlab-span:3}}"
    "@container (min-width:60rem){.sgdlab-panels.n4{grid-template-columns:repeat(4,1fr);"
    "--sgdlab-span:4}}"
    ".sgdlab-tabs{display:none}"
    "@media (scripting:enabled){@container not (min-width:32rem){"
    ".sgdlab-tabs{display:flex;gap:0.3em;margin-bottom:0.3em}"
    ".sgdlab-panels>div:not(.sgdlab-on){display:none}"
    ".sgdlab-explorer .sgdlab-stage{position:sticky;top:var(--sgdlab-top,0px);z-index:2;"
    "background:var(--pst-color-background,var(--jp-layout-color0,Canvas));"
    "padding-bottom:0.2em;border-bottom:1px solid rgb(128 128 128 / 0.4)}}}"
    ".sgdlab-tabs button{flex:1 1 0;min-height:44px;min-width:44px;padding:0 0.4em;"
    "border:1px solid rgb(128 128 128 / 0.6);border-radius:0.3em;background:transparent;"
    "color:inherit;font:inherit}"
    ".sgdlab-tabs button[aria-pressed=true]{font-weight:700;"
    "background:rgb(128 128 128 / 0.2);box-shadow:inset 0 -3px 0 currentColor}"
    ".sgdlab-bar{display:flex;gap:0.8em;align-items:center;margin-top:0.3em}"
    ".sgdlab-bar input{flex:1;min-width:0}"
    ".sgdlab-play{min-width:6.5em}"
    ".sgdlab-stage button,.sgdlab-controls select{min-height:44px;min-width:44px;"
    "padding-inline:0.6em}"
    ".sgdlab-stage input[type=range],.sgdlab-controls input[type=range]{min-height:44px}"
    ".sgdlab-controls{display:flex;flex-wrap:wrap;gap:0.2em 1.4em;margin:0.4em 0}"
    ".sgdlab-controls>div{flex:1 1 11em;min-width:0}"
    ".sgdlab-controls label{display:block;font-weight:600}"
    ".sgdlab-controls input[type=range]{width:100%;margin:0}"
    ".sgdlab-controls select{display:block}"
    ".sgdlab-ticks{position:relative;display:flex;justify-content:space-between;"
    "font-size:0.8em;margin-bottom:1.2em}"
    ".sgdlab-mark{position:absolute;top:1.2em;white-space:nowrap;font-size:0.95em;"
    "border-left:2px solid currentColor;padding-left:0.2em}"
    ".sgdlab-mark.end{border-left:0;border-right:2px solid currentColor;padding:0 0.2em 0 0}"
    ".sgdlab-summary{margin:0.3em 0}"
    ".sgdlab-race{font-size:0.9em;margin:0.4em 0}"
    ".sgdlab-race .focus{font-weight:700}"
)

#: The player: draws runs over the panels' images and plays them. One copy per page
#: defines ``window.sgdlabPlayer``; every animation and explorer calls it. A run is
#: ``{color, steps, theta: [a0, c0, a1, c1, ...], loss: [...], width?, opacity?}``;
#: each panel (axes) has a kind: ``line`` (the line a·x + c over the data),
#: ``path`` (the parameters' path and where they are now) or ``loss``.
_PLAYER_LIB_JS = """
window.sgdlabLayout = window.sgdlabLayout || function (root) {
  /* Tabs choose the one panel shown on a narrow screen; fit() measures what the
     player shows beside its panels (--sgdlab-reserve, see the stylesheet). */
  var tabs = root.querySelectorAll(".sgdlab-tabs button");
  var panels = root.querySelectorAll(".sgdlab-panels > div");
  var grid = root.querySelector(".sgdlab-panels"), stage = root.querySelector(".sgdlab-stage");
  var row = root.querySelector(".sgdlab-tabs");
  tabs.forEach(function (tab) {
    tab.addEventListener("click", function () {
      var k = +tab.dataset.panel;
      tabs.forEach(function (t, i) { t.setAttribute("aria-pressed", String(i === k)); });
      panels.forEach(function (p, i) { p.classList.toggle("sgdlab-on", i === k); });
    });
  });
  function fit() {
    var tabbed = getComputedStyle(row).display !== "none";
    /* tabbed, an explorer's sticky stage leaves room for a control below it */
    var rest = tabbed ? stage.offsetHeight - grid.offsetHeight +
      (root.classList.contains("sgdlab-explorer") ? 128 : 0)
      : root.offsetHeight - grid.offsetHeight;
    root.style.setProperty("--sgdlab-reserve", rest + "px");
  }
  window.addEventListener("resize", fit);
  if ("IntersectionObserver" in window) {
    var near = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) { near.disconnect(); fit(); }
    }, {rootMargin: "100% 0px"});
    near.observe(root);
  } else fit();
  return fit;
};
window.sgdlabPlayer = window.sgdlabPlayer || function (root, spec) {
  var svgs = root.querySelectorAll(".sgdlab-panels svg"), NS = "http://www.w3.org/2000/svg";
  var button = root.querySelector("button.sgdlab-play");
  var slider = root.querySelector("input.sgdlab-frame");
  var label = root.querySelector("output.sgdlab-step");
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    parent.appendChild(e); return e;
  }
  function mapper(ax) {
    var b = ax.box, lx = ax.xlim, ly = ax.ylim, log = ax.logy;
    var f = function (v) { return log ? Math.log10(Math.max(v, 1e-12)) : v; };
    return function (x, y) {
      return [b[0] + (x - lx[0]) / (lx[1] - lx[0]) * b[2],
              b[1] + (1 - (f(y) - f(ly[0])) / (f(ly[1]) - f(ly[0]))) * b[3]];
    };
  }
  var maps = spec.axes.map(mapper), layers = spec.axes.map(function (ax, i) {
    var id = root.id + "-clip" + i, cp = el("clipPath", {id: id}, svgs[i]);
    el("rect", {x: ax.box[0], y: ax.box[1], width: ax.box[2], height: ax.box[3]}, cp);
    return el("g", {"clip-path": "url(#" + id + ")"}, svgs[i]);
  });
  var runs = [], shapes = [];
  function show(list) {
    layers.forEach(function (g) { while (g.firstChild) g.removeChild(g.firstChild); });
    runs = list;
    shapes = list.map(function (run) {
      var w = run.width || 1, o = run.opacity || 1, c = run.color;
      return spec.axes.map(function (ax, a) {
        var g = layers[a], line = {fill: "none", stroke: c, opacity: o};
        if (ax.kind === "line") return [el("line", {stroke: c, "stroke-width": 2 * w}, g)];
        if (ax.kind === "loss") {
          line["stroke-width"] = 1.5 * w; return [el("polyline", line, g)];
        }
        line["stroke-width"] = 1.3 * w;
        return [el("polyline", line, g), el("circle", {r: 2.5 + w, fill: c, opacity: o}, g)];
      });
    });
  }
  function draw(frame) {
    var step = spec.frames[frame];
    runs.forEach(function (run, r) {
      var k = Math.min(step, run.steps), a = run.theta[2 * k], c = run.theta[2 * k + 1];
      spec.axes.forEach(function (ax, i) {
        var m = maps[i], s = shapes[r][i], pts = [];
        if (ax.kind === "line") {
          var p0 = m(ax.xlim[0], ax.xlim[0] * a + c), p1 = m(ax.xlim[1], ax.xlim[1] * a + c);
          s[0].setAttribute("x1", p0[0]); s[0].setAttribute("y1", p0[1]);
          s[0].setAttribute("x2", p1[0]); s[0].setAttribute("y2", p1[1]);
        } else if (ax.kind === "loss") {
          for (var j = 0; j <= k; j++) pts.push(m(j, run.loss[j]).join(","));
          s[0].setAttribute("points", pts.join(" "));
        } else {
          for (var q = 0; q <= k; q++) {
            pts.push(m(run.theta[2 * q], run.theta[2 * q + 1]).join(","));
          }
          s[0].setAttribute("points", pts.join(" "));
          var here = m(a, c);
          s[1].setAttribute("cx", here[0]); s[1].setAttribute("cy", here[1]);
        }
      });
    });
    slider.value = frame; label.textContent = "step " + step;
    root.dataset.frame = frame;
  }
  var timer = null;
  function stop() { clearInterval(timer); timer = null; button.textContent = "\\u25B6 Play";
                    button.setAttribute("aria-pressed", "false"); }
  button.addEventListener("click", function () {
    if (timer) { stop(); return; }
    if (+slider.value >= spec.frames.length - 1) draw(0);
    button.textContent = "\\u275A\\u275A Pause"; button.setAttribute("aria-pressed", "true");
    timer = setInterval(function () {
      var next = +slider.value + 1;
      if (next >= spec.frames.length) { stop(); return; }
      draw(next);
    }, spec.interval);
  });
  slider.addEventListener("input", function () { stop(); draw(+slider.value); });
  return {show: show, draw: draw, stop: stop, last: spec.frames.length - 1};
};
"""

_ANIMATION_JS = """
(function () {
  var root = document.getElementById("%(id)s");
  window.sgdlabLayout(root);
  var spec = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var player = window.sgdlabPlayer(root, spec);
  player.show(spec.runs); player.draw(0);
})();
"""

#: An explorer: form controls choose a *view* (the runs to draw, one of them in
#: focus); every run was computed at build time, the script only looks it up.
_EXPLORER_JS = """
(function () {
  var root = document.getElementById("%(id)s");
  var fit = window.sgdlabLayout(root);
  var data = root.querySelector("script.sgdlab-data");
  /* In a notebook the runs are inline. On the site they are a file (data-src, see
     _ext/sgdlab_site.py), fetched as the explorer nears the screen. */
  if (!data.dataset.src) { start(JSON.parse(data.textContent)); return; }
  var loading = false;
  function load() {
    if (loading) return;
    loading = true;
    fetch(data.dataset.src)
      .then(function (r) { if (!r.ok) throw new Error(r.status + " " + r.url); return r.json(); })
      .then(start)
      .catch(function (e) {
        /* No runs (a page opened from disk, where browsers refuse fetch; a lost
           connection): say so, and show the static grid in their place. */
        root.dataset.error = String(e);
        root.querySelector(".sgdlab-summary").textContent =
          "The runs could not be loaded (" + e.message + "): the static grid below " +
          "shows them. Served over HTTP (python -m http.server), the controls work.";
        var grid = root.querySelector("noscript");
        if (grid) grid.insertAdjacentHTML("afterend", grid.textContent);
      });
  }
  if (!("IntersectionObserver" in window)) { load(); return; }
  var near = new IntersectionObserver(function (entries) {
    if (entries.some(function (e) { return e.isIntersecting; })) { near.disconnect(); load(); }
  }, {rootMargin: "100%% 0px"});
  near.observe(root);

  function start(spec) {
    var player = window.sgdlabPlayer(root, spec);
    var controls = spec.params.map(function (p) {
      return root.querySelector("[data-param='" + p.name + "']");
    });
    var summary = root.querySelector(".sgdlab-summary"), rows = root.querySelector("tbody");
    function cell(row, text) { var td = document.createElement("td"); td.textContent = text;
                               row.appendChild(td); }
    function update() {
      var key = controls.map(function (c, i) {
        var p = spec.params[i], text = p.labels[+c.value];
        if (c.type === "range") {
          c.setAttribute("aria-valuetext", text);
          root.querySelector("output[for='" + c.id + "']").textContent = text;
        }
        return c.value;
      }).join(",");
      var view = spec.views[key], focus = view[1], many = view[0].length > 1;
      var list = view[0].map(function (i, j) {
        var run = spec.runs[i];
        return {color: run.color, steps: run.steps, theta: run.theta, loss: run.loss,
                width: many && j !== focus ? 0.8 : 1.3, opacity: many && j !== focus ? 0.6 : 1};
      });
      list.push(list.splice(focus, 1)[0]);  /* the run in focus is drawn on top */
      player.stop(); player.show(list); player.draw(player.last);
      var chosen = spec.runs[view[0][focus]];
      summary.textContent = chosen.summary;
      root.dataset.run = view[0][focus]; root.dataset.view = view[0].join(" ");
      if (rows) {
        rows.textContent = "";
        view[0].forEach(function (i, j) {
          var run = spec.runs[i], row = document.createElement("tr");
          if (j === focus) row.className = "focus";
          cell(row, run.label); row.firstChild.style.borderLeft = "0.7em solid " + run.color;
          cell(row, run.stats.reached === null ? "never" : run.stats.reached);
          cell(row, run.stats.final); cell(row, run.stats.diverged ? "yes" : "no");
          rows.appendChild(row);
        });
      }
    }
    controls.forEach(function (c) { c.addEventListener("input", update);
                                    c.addEventListener("change", update); });
    /* The first summary is not news: a screen reader announces only changes. */
    summary.setAttribute("aria-live", "off");
    update();
    fit();  /* the summary and the table are filled now */
    setTimeout(function () { summary.setAttribute("aria-live", "polite"); }, 0);
  }
})();
"""
