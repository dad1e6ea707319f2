// Runs the studio's bpmnlint bundle (node_modules/.jiuzhu/bpmnlint.js) under node over BPMN
// files, the way the studio page runs it over the modeler's model; prints
// {"rules": [...codes], "files": {path: [problems]}} as JSON.
// Usage: node bpmnlint_run.cjs <bundle> <bpmn-moddle cjs> <file.bpmn>...
'use strict';
const fs = require('fs');
const [bundle, moddle, ...files] = process.argv.slice(2);
globalThis.window = globalThis;
require(bundle);
const BpmnModdle = require(moddle);

(async () => {
  const out = { rules: window.jiuzhuBpmnlint.rules, files: {} };
  for (const file of files) {
    const { rootElement } = await new BpmnModdle().fromXML(fs.readFileSync(file, 'utf8'));
    out.files[file] = await window.jiuzhuBpmnlint.lint(rootElement);
  }
  process.stdout.write(JSON.stringify(out));
})().catch((err) => { console.error(err); process.exit(1); });
