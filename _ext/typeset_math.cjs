// Typesets a site's TeX formulas as SVG with MathJax (npm mathjax-full), for
// _ext/sgdlab_site.py, once per build.
//
// stdin, JSON:  {"pages": [[{"tex": "...", "display": false}, ...], ...]}
// stdout, JSON: {"pages": [{"html": ["<mjx-container ...>", ...], "defs": "<svg ...>"}, ...],
//                "css": "..."}
// Each formula becomes an <mjx-container> holding an SVG drawn with paths (no
// web font to load), hidden from assistive technology, followed by the same
// formula as MathML (MathJax's "assistive MathML"), which screen readers read.
// The glyph paths of a page are defined once, in its "defs" (a hidden SVG the
// page must include); the formulas refer to them. A formula MathJax cannot
// parse is reported on stderr (null in its place) and the exit status is 1.
"use strict";

const { mathjax } = require("mathjax-full/js/mathjax.js");
const { TeX } = require("mathjax-full/js/input/tex.js");
const { SVG } = require("mathjax-full/js/output/svg.js");
const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
const { AssistiveMmlHandler } = require("mathjax-full/js/a11y/assistive-mml.js");
const { AllPackages } = require("mathjax-full/js/input/tex/AllPackages.js");

function main(input) {
  const request = JSON.parse(input);
  const adaptor = liteAdaptor();
  AssistiveMmlHandler(RegisterHTMLHandler(adaptor));
  const tex = new TeX({
    packages: AllPackages.filter((name) => name !== "bussproofs"),
    formatError: (jax, err) => { throw err; },
  });
  const svg = new SVG({ fontCache: "global" });
  const doc = mathjax.document("", { InputJax: tex, OutputJax: svg });
  let failed = 0;
  const pages = request.pages.map((formulas) => {
    svg.fontCache.clearCache();
    const html = formulas.map(({ tex: source, display }) => {
      try {
        const node = doc.convert(source, { display: Boolean(display), em: 16, ex: 8, containerWidth: 640 });
        return adaptor.outerHTML(node);
      } catch (err) {
        failed += 1;
        process.stderr.write(`cannot typeset ${JSON.stringify(source)}: ${err.message}\n`);
        return null;
      }
    });
    const defs = formulas.length ? adaptor.outerHTML(svg.fontCache.getCache()) : "";
    return { html, defs };
  });
  const css = adaptor.textContent(svg.styleSheet(doc));
  process.stdout.write(JSON.stringify({ pages, css }));
  return failed ? 1 : 0;
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => { process.exitCode = main(input); });
