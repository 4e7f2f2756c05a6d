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
    """The command that runs ``lighthouse_pages.mjs`` (npm's lighthouse, from
    ``node_modules/``, driven through its Node API)."""
    if not (ROOT / "node_modules" / "lighthouse").is_dir():
        raise SystemExit(
            "lighthouse is not installed: run `npm ci` in the repository root"
        )
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed")
    return [node, str(Path(__file__).with_name("lighthouse_pages.mjs"))]


def _summary(data: dict, categories) -> dict:
    """The scores (0-100), three timings (ms) and the ids of the failing audits
    of the categories other than performance, from one page's results."""
    if data.get("runtimeError"):
        raise RuntimeError(f"lighthouse on {data['url']}: {data['runtimeError']}")
    scores = {
        name: round(100 * data["categories"][name])
        if data["categories"][name] is not None
        else None
        for name in categories
    }
    audits = data["audits"]
    timings = {name: audits[name]["numericValue"] for name in METRICS if name in audits}
    failed = sorted(
        audit_id
        for name in categories
        if name != "performance"
        for audit_id, weight in data["auditRefs"][name]
        if weight > 0
        and audits[audit_id]["score"] is not None
        and audits[audit_id]["score"] < 1
    )
    return {**scores, **timings, "failed": failed}


def run_lighthouse_pages(
    urls: list[str], preset: str, chrome: str, categories=CATEGORIES, processes=1
) -> dict[str, dict]:
    """Lighthouse on each of ``urls``: {url: :func:`_summary`}. Each of
    ``processes`` Node processes launches one chromium and runs its share of
    the pages one after the other (for scores that do not depend on timing,
    two at once overlap one page's waits for a quiet network with the other's
    work; for timings, keep one)."""
    shares = [urls[i::processes] for i in range(processes) if urls[i::processes]]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, share in enumerate(shares):
            job = {
                "chrome": chrome,
                "flags": CHROME_FLAGS.split(),
                "preset": preset,
                "categories": list(categories),
                "urls": share,
            }
            (Path(tmp) / f"job-{i}.json").write_text(json.dumps(job))
            stderr = open(Path(tmp) / f"stderr-{i}", "w+")  # noqa: SIM115
            with open(Path(tmp) / f"job-{i}.json") as stdin:
                process = subprocess.Popen(
                    lighthouse_command(),
                    stdin=stdin,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    text=True,
                )
            runs.append((process, stderr, share))
        results = {}
        for process, stderr, share in runs:
            try:
                out, _ = process.communicate(timeout=120 * len(share) + 60)
            except subprocess.TimeoutExpired:
                process.kill()
                out, _ = process.communicate()
            stderr.seek(0)
            said = stderr.read()[-3000:]
            stderr.close()
            for line in out.splitlines():
                data = json.loads(line)
                results[data["url"]] = _summary(data, categories)
            missing = [url for url in share if url not in results]
            if process.returncode != 0 or missing:
                raise RuntimeError(f"lighthouse failed on {missing or share}:\n{said}")
    return results


def run_lighthouse(url: str, preset: str, chrome: str, categories=CATEGORIES) -> dict:
    """One Lighthouse run (see :func:`_summary`)."""
    return run_lighthouse_pages([url], preset, chrome, categories)[url]


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
