// Lighthouse over several pages with one chromium: benchmarks/lighthouse.py's runner.
//
// Reads one JSON object on stdin: {"chrome": path, "flags": [chromium flags],
// "preset": "mobile" | "desktop", "categories": [...], "urls": [...]}.
// Launches chromium once and runs Lighthouse on each URL in turn (Lighthouse
// opens a fresh tab and clears the origin's storage for each run), writing one
// JSON line per URL: {"url", "categories": {id: score}, "audits": {id:
// {score, numericValue}}, "auditRefs": {category: [[id, weight]]},
// "runtimeError"}. Running Lighthouse twice at once in one process is not
// supported; the caller starts one process per concurrent run.
//
// The full-page screenshot is left out: it only illustrates the HTML report
// and no audit scores from it.
import lighthouse from 'lighthouse';
import desktopConfig from 'lighthouse/core/config/desktop-config.js';
import * as chromeLauncher from 'chrome-launcher';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const job = JSON.parse(Buffer.concat(chunks).toString());

const chrome = await chromeLauncher.launch({chromePath: job.chrome, chromeFlags: job.flags});
try {
  for (const url of job.urls) {
    const flags = {
      port: chrome.port,
      output: 'json',
      logLevel: 'error',
      onlyCategories: job.categories,
      disableFullPageScreenshot: true,
    };
    const config = job.preset === 'desktop' ? desktopConfig : undefined;
    const {lhr} = await lighthouse(url, flags, config);
    const audits = Object.fromEntries(
      Object.entries(lhr.audits).map(([id, a]) => [id, {score: a.score, numericValue: a.numericValue}]),
    );
    const categories = Object.fromEntries(
      Object.entries(lhr.categories).map(([id, c]) => [id, c.score]),
    );
    const auditRefs = Object.fromEntries(
      Object.entries(lhr.categories).map(([id, c]) => [id, c.auditRefs.map(r => [r.id, r.weight])]),
    );
    const runtimeError = lhr.runtimeError ? lhr.runtimeError.message : null;
    process.stdout.write(JSON.stringify({url, categories, audits, auditRefs, runtimeError}) + '\n');
  }
} finally {
  await chrome.kill();
}
