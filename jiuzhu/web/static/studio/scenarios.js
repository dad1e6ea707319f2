// 场景 (rules as tests): run one scenario or all of them against the draft
// (POST /api/studio/drafts/{id}/scenarios; the editor's files when the studio
// editor is on the page) and show each result in Chinese at its scenario.
// In the editor the 场景 tab holds the fragment (/studio/{id}/scenarios), where
// the feature files are also edited and saved into the draft; a publish the
// scenarios refused marks the failing scenario at its step there.
(function () {
  "use strict";
  if (window.jiuzhuScenarios) return; // the fragment may be loaded more than once
  window.jiuzhuScenarios = true;

  function mark(section, passed, step, message) {
    var out = section.querySelector(".result");
    out.className = "result " + (passed ? "passed" : "failed");
    out.textContent = passed ? "通过" : "未通过：在步骤「" + (step || "（开始前）") + "」失败" + (message ? "：" + message : "");
  }

  function sectionOf(root, name) {
    var found = null;
    root.querySelectorAll("[data-scenario]").forEach(function (section) {
      if (section.dataset.scenario === name) found = section;
    });
    return found;
  }

  function show(root, run) {
    var status = root.querySelector(".run-status");
    var failed = run.results.filter(function (r) { return !r.passed; }).length;
    if (run.outcome === "passed") status.textContent = "全部通过（" + run.results.length + " 个，用时 " + run.seconds + " 秒）";
    else if (run.outcome === "failed") status.textContent = failed + " 个场景未通过（共 " + run.results.length + " 个）";
    else status.textContent = run.message || "场景未能运行";
    run.results.forEach(function (r) {
      var section = sectionOf(root, r.name);
      if (section) mark(section, r.passed, r.step, r.message);
    });
  }

  // A publish refused by a scenario (the lint list's SCENARIO_FAILED problems: field = the
  // scenario's name, the message naming the step) is shown at that scenario.
  function markRefusals(root, problems) {
    (problems || []).forEach(function (p) {
      if (p.code !== "SCENARIO_FAILED" || !p.field) return;
      var section = sectionOf(root, p.field);
      if (!section) return;
      var out = section.querySelector(".result");
      out.className = "result failed";
      out.textContent = "发布被拒：" + p.message;
      section.classList.add("refused");
    });
  }

  function run(button) {
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
  }

  // -- in the studio editor: the 场景 tab ---------------------------------------------------

  var studio = window.jiuzhuStudio;
  var panel = document.getElementById("studio-scenarios");
  var loading = null;

  function load() {
    if (!studio || !panel) return Promise.resolve();
    var url = "/studio/" + encodeURIComponent(studio.processId) + "/scenarios";
    loading = fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (r) {
        if (!r.ok) throw new Error("场景未能载入（" + r.status + "）");
        return r.text();
      })
      .then(function (html) {
        panel.innerHTML = html;
        markRefusals(panel, studio.problems);
        panel.dataset.loaded = "true";
      })
      .catch(function (err) { panel.textContent = err.message; });
    return loading;
  }

  function saveFeature(button) {
    var name = button.dataset.featureSave;
    var box = button.closest(".feature-edit");
    var text = box.querySelector("textarea").value;
    var status = box.querySelector(".feature-status");
    status.textContent = "正在保存…";
    button.disabled = true;
    studio.saveFile(name, text).then(function (data) {
      panel.dataset.loaded = "";
      return load().then(function () {
        var again = panel.querySelector(".feature-status");
        if (again) again.textContent = "已保存到草稿（修订 " + data.revision + "）";
      });
    }, function (err) {
      status.textContent = "未保存：" + err.message;
      button.disabled = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-scenario-run]");
    if (button) { run(button); return; }
    var save = event.target.closest("[data-feature-save]");
    if (save && studio) saveFeature(save);
  });

  if (studio && panel) {
    studio.on("tab", function (key) { if (key === "scenarios" && panel.dataset.loaded !== "true") load(); });
    studio.on("lint", function (problems) { if (panel.dataset.loaded === "true") markRefusals(panel, problems); });
    // The editor may have opened on #scenarios before this script listened.
    var shown = panel.closest(".studio-panel");
    if (shown && !shown.hidden) load();
  }
})();
