"""Print Lighthouse's scores and paint timings for every page of the built site.

Usage (from the repository root, after a build and ``npm ci``)::

    python benchmarks/lighthouse.py [--pages intro,watching-sgd] [--preset mobile]
                                    [--runs 1] [--json out.json]

The site in ``_build/html`` is served under ``/<repository>/`` with gzip, as
GitHub Pages serves it, by a local HTTP server; npm's ``lighthouse`` (from
``node_modules/``) drives Debian's chromium (``/usr/bin/chromium``, or
``$CHROME_PATH``) headless. Each page is measured with the mobile preset
(Lighthouse's default: simulated slow 4G and a 4x slower CPU) and the desktop
preset, and the script prints the four category scores (performance,
accessibility, best practices, SEO) with First Contentful Paint, Largest
Contentful Paint and Total Blocking Time.

Performance scores come from a simulation fed by a real page load; on a
shared machine a busy CPU lengthens the measured tasks, so TBT and the
performance score move from run to run (``--runs 3`` prints the median of
three). Accessibility, best practices and SEO do not depend on timing.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
PREFIX = "/" + CONFIG["repository"]["url"].rstrip("/").rsplit("/", 1)[1] + "/"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
METRICS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time")
#: What GitHub Pages compresses (text types); images, fonts and archives go as they are.
COMPRESSED = (".html", ".css", ".js", ".json", ".svg", ".txt", ".xml", ".map")
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking "
    "--disable-component-update --disable-sync"
)


def toc_pages() -> list[str]:
    """The pages of ``_toc.yml``, in reading order (``book/intro``, ...)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc["parts"]:
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Serves ``directory`` under PREFIX, gzip-compressing text as GitHub Pages does."""

    def translate_path(self, path):
        path = urlparse(path).path
        if not path.startswith(PREFIX):
            return str(Path(self.directory) / "__outside_the_site__")
        return super().translate_path("/" + path[len(PREFIX) :])

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (wants_gzip and path.is_file() and path.suffix in COMPRESSED):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")  # GitHub Pages' header
        self.end_headers()
        return _Body(body)

    def log_message(self, *args):
        pass


class _Body:
    """A file-like body for ``copyfile``."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, size: int = -1) -> bytes:
        data, self.data = (
            (self.data, b"") if size < 0 else (self.data[:size], self.data[size:])
        )
        return data

    def close(self):
        pass


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Start the gzip server in a thread; return it and the site's base URL."""
    handler = functools.partial(GzipHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"


def lighthouse_command() -> list[str]:
    local = ROOT / "node_modules" / ".bin" / "lighthouse"
    if not local.exists():
        raise SystemExit(
            "lighthouse is not installed: run `npm ci` in the repository root"
        )
    return [str(local)]


def run_lighthouse(url: str, preset: str, chrome: str, categories=CATEGORIES) -> dict:
    """One Lighthouse run; returns the scores (0-100), three timings (ms) and the ids
    of the failing audits of the categories other than performance."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = lighthouse_command() + [
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            f"--only-categories={','.join(categories)}",
            f"--chrome-flags={CHROME_FLAGS} --user-data-dir={tmp}/profile",
        ]
        if preset == "desktop":
            command.append("--preset=desktop")
        env = dict(os.environ, CHROME_PATH=chrome)
        result = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0 or not report.exists():
            raise RuntimeError(f"lighthouse failed on {url}:\n{result.stderr[-3000:]}")
        data = json.loads(report.read_text())
    if data.get("runtimeError"):
        raise RuntimeError(f"lighthouse: {data['runtimeError']}")
    scores = {
        name: round(100 * data["categories"][name]["score"])
        if data["categories"][name]["score"] is not None
        else None
        for name in categories
    }
    audits = data["audits"]
    timings = {name: audits[name]["numericValue"] for name in METRICS if name in audits}
    failed = sorted(
        audit_id
        for name in categories
        if name != "performance"
        for ref in data["categories"][name]["auditRefs"]
        if ref["weight"] > 0
        and (audit_id := ref["id"])
        and data["audits"][audit_id]["score"] is not None
        and data["audits"][audit_id]["score"] < 1
    )
    return {**scores, **timings, "failed": failed}


def median_run(url: str, preset: str, chrome: str, runs: int) -> dict:
    results = [run_lighthouse(url, preset, chrome) for _ in range(runs)]
    merged = {}
    for key in CATEGORIES + METRICS:
        values = [r[key] for r in results if r[key] is not None]
        merged[key] = statistics.median(values) if values else None
    merged["failed"] = sorted({a for r in results for a in r["failed"]})
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pages", help="comma-separated pages (default: every page of _toc.yml)"
    )
    parser.add_argument(
        "--preset", choices=["mobile", "desktop", "both"], default="both"
    )
    parser.add_argument(
        "--runs", type=int, default=1, help="runs per page; the median is shown"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)

    if not (HTML / "index.html").exists():
        raise SystemExit("build the site first: jupyter-book build .")
    chrome = os.environ.get("CHROME_PATH") or shutil.which("chromium")
    if not chrome:
        raise SystemExit("Debian chromium is not installed (apt-get install chromium)")
    pages = toc_pages()
    if args.pages:
        wanted = args.pages.split(",")
        pages = [p for p in pages if p in wanted or p.split("/")[-1] in wanted]
    presets = ["mobile", "desktop"] if args.preset == "both" else [args.preset]

    server, base = serve(HTML)
    print(
        f"Lighthouse on {len(pages)} page(s), served with gzip at {base}; chromium: {chrome}"
    )
    # A busy CPU lengthens the measured tasks: say how busy the machine was.
    print(
        "load average (1, 5, 15 min) at the start: {:.2f} {:.2f} {:.2f}".format(
            *os.getloadavg()
        )
    )
    header = (
        f"{'page':<28} {'preset':<8} {'perf':>4} {'a11y':>4} {'bp':>4} {'seo':>4} "
        f"{'FCP s':>6} {'LCP s':>6} {'TBT ms':>7}"
    )
    print(header)
    print("-" * len(header))
    results = []
    try:
        for page in pages:
            for preset in presets:
                r = median_run(base + page + ".html", preset, chrome, args.runs)
                results.append({"page": page, "preset": preset, **r})
                print(
                    f"{page.split('/')[-1]:<28} {preset:<8} {r['performance']:>4.0f} "
                    f"{r['accessibility']:>4.0f} {r['best-practices']:>4.0f} {r['seo']:>4.0f} "
                    f"{r['first-contentful-paint'] / 1000:>6.2f} "
                    f"{r['largest-contentful-paint'] / 1000:>6.2f} "
                    f"{r['total-blocking-time']:>7.0f}"
                    + (f"   failing: {', '.join(r['failed'])}" if r["failed"] else ""),
                    flush=True,
                )
    finally:
        server.shutdown()
    print(
        "load average (1, 5, 15 min) at the end:   {:.2f} {:.2f} {:.2f}".format(
            *os.getloadavg()
        )
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    short = [r for r in results if r["preset"] == "mobile" and r["performance"] < 90]
    if short:
        print("mobile performance below 90: " + ", ".join(r["page"] for r in short))
    short = [r for r in results if r["preset"] == "desktop" and r["performance"] < 95]
    if short:
        print("desktop performance below 95: " + ", ".join(r["page"] for r in short))
    return 0


if __name__ == "__main__":
    sys.exit(main())
