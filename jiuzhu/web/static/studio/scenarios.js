// 场景 (rules as tests): run one scenario or all of them against the draft
// (POST /api/studio/drafts/{id}/scenarios; the editor's files when the studio
// editor is on the page) and show each result in Chinese at its scenario.
(function () {
  "use strict";
  if (window.jiuzhuScenarios) return; // the fragment may be loaded more than once
  window.jiuzhuScenarios = true;

  function show(root, run) {
    var status = root.querySelector(".run-status");
    var failed = run.results.filter(function (r) { return !r.passed; }).length;
    if (run.outcome === "passed") status.textContent = "全部通过（" + run.results.length + " 个，用时 " + run.seconds + " 秒）";
    else if (run.outcome === "failed") status.textContent = failed + " 个场景未通过（共 " + run.results.length + " 个）";
    else status.textContent = run.message || "场景未能运行";
    run.results.forEach(function (r) {
      root.querySelectorAll("[data-scenario]").forEach(function (section) {
        if (section.dataset.scenario !== r.name) return;
        var out = section.querySelector(".result");
        out.className = "result " + (r.passed ? "passed" : "failed");
        out.textContent = r.passed ? "通过" : "未通过：在步骤「" + (r.step || "（开始前）") + "」失败" + (r.message ? "：" + r.message : "");
      });
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-scenario-run]");
    if (!button) return;
    var root = button.closest("[data-process]");
    var name = button.dataset.scenarioRun;
    var studio = window.jiuzhuStudio;
    var body = { files: studio && studio.files ? studio.files : null, scenarios: name ? [name] : null };
    root.querySelector(".run-status").textContent = "正在运行……（可能需要半分钟）";
    button.disabled = true;
    fetch("/api/studio/drafts/" + encodeURIComponent(root.dataset.process) + "/scenarios", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
      body: JSON.stringify(body),
    })
      .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
      .then(function (pair) {
        if (pair[0]) show(root, pair[1]);
        else root.querySelector(".run-status").textContent = pair[1].message || "运行失败";
      })
      .catch(function (err) { root.querySelector(".run-status").textContent = "运行失败：" + err.message; })
      .then(function () { button.disabled = false; });
  });
})();
