/* 流程设计 · 试运行: walk the draft on a throw-away engine (POST /api/studio/drafts/{id}/dry-run).
 * The page keeps the run's inputs (acceptance date, start data, each submitted form, each clock
 * jump); every change replays them all on the server, which keeps nothing. After each step it
 * shows the waiting tasks with their forms, the path on the diagram, each time limit's deadline
 * on the working-day calendar and the audit events. "把这次试运行存为场景" appends the inputs to
 * the draft's Gherkin scenarios (…/dry-run/scenario). Mounted in #studio-dry-run. */
(function () {
  "use strict";

  var root = document.getElementById("studio-dry-run");
  var studio = window.jiuzhuStudio;
  if (!root || !studio) return;
  var api = "/api/studio/drafts/" + encodeURIComponent(studio.processId) + "/dry-run";
  var csrf = document.getElementById("studio").dataset.csrf;
  var run = null; // {accepted_on, region, org_unit, start, steps}
  var state = null;
  var marked = [];

  var el = window.jiuzhuDom.el;

  function part(name) { return root.querySelector("[data-part=" + name + "]"); }

  function today() { return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10); }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().catch(function () { return {}; }).then(function (j) { return { ok: r.ok, body: j }; }); });
  }

  function say(text, bad) {
    var out = part("status");
    out.textContent = text;
    out.className = "dr-status" + (bad ? " dr-bad" : "");
  }

  function refusal(body) {
    var lines = (body.problems || []).map(function (p) {
      return (p.element_id ? "[" + p.element_id + "] " : "") + (p.field ? "（" + p.field + "）" : "") + p.message;
    });
    return (body.message || "请求失败") + (lines.length ? "：" + lines.join("；") : "");
  }

  // Replay the run (with one more input, if given); a refused input is dropped again.
  function replay(extra) {
    var body = Object.assign({}, run, { steps: run.steps.concat(extra ? [extra] : []) });
    say("正在试运行……");
    return post(api, body).then(function (answer) {
      if (!answer.ok) { say(refusal(answer.body), true); return; }
      state = answer.body;
      if (state.error) {
        run.steps = body.steps.slice(0, state.applied);
        say(state.error.message + ((state.error.problems || []).length > 1 ? "：" + refusal({ message: "", problems: state.error.problems }) : ""), true);
      } else {
        run.steps = body.steps;
        say("已完成 " + run.steps.length + " 步。现在是 " + state.now_label + "（北京时间）");
      }
      show();
    }, function (err) { say("试运行失败：" + err.message, true); });
  }

  function begin() {
    run = {
      accepted_on: part("day").value || today(),
      region: part("region").value.trim() || "CN",
      org_unit: part("unit").value.trim() || null,
      start: null, steps: []
    };
    say("正在部署草稿到临时数据库……");
    // The run reads the saved draft: the diagram as it is now is saved first.
    studio.saveDiagram().catch(function () {}).then(function () { return post(api, run); }).then(function (answer) {
      if (!answer.ok) { say(refusal(answer.body), true); return; }
      state = answer.body;
      say("草稿已部署到临时数据库。请填写开始数据，然后开始案件。");
      show();
    });
  }

  // Sample data as JSON: in CodeMirror when its bundle is loaded (the test id then names the text
  // itself, so it is filled like the text area it replaces), else a text area; both answer .value.
  function jsonBox(value, testid) {
    var text = JSON.stringify(value, null, 2);
    if (!window.jiuzhuCode) return el("textarea", { class: "sf-code dr-json", rows: 8, "data-testid": testid, spellcheck: "false" }, [text]);
    var mount = el("div", { class: "sf-code sf-cm dr-json" });
    var editor = window.jiuzhuCode.editor(mount, { language: "json", doc: text, label: "试运行数据（JSON）", testid: testid, lines: 8 });
    Object.defineProperty(mount, "value", { get: function () { return editor.value; } });
    return mount;
  }

  function parsed(box) {
    try { return JSON.parse(box.value); } catch (e) { say("JSON 格式错误：" + e.message, true); return null; }
  }

  function showStart(target) {
    var box = jsonBox(state.start_sample || {}, "dry-run-start-data");
    var title = state.start_form ? (state.start_form.title || "开始表单") : "开始数据（此流程没有开始表单）";
    target.appendChild(el("section", { class: "dr-task" }, [
      el("h4", { text: title }),
      box,
      el("button", { type: "button", "data-testid": "dry-run-start", onclick: function () {
        var data = parsed(box);
        if (data === null) return;
        run.start = data;
        replay(null);
      } }, ["开始案件"])
    ]));
  }

  function showTasks(target) {
    if (!state.ready.length) {
      target.appendChild(el("p", { class: "muted", text: state.status === "completed" ? "案件已办结。" : "没有待办。可跳到下一个期限。" }));
    }
    state.ready.forEach(function (task) {
      var box = jsonBox(task.sample, "dry-run-task-data");
      var fields = task.schema && task.schema.properties ? Object.keys(task.schema.properties).map(function (k) {
        var p = task.schema.properties[k] || {};
        return k + (p.title ? "（" + p.title + "）" : "");
      }).join("、") : "（无表单）";
      target.appendChild(el("section", { class: "dr-task", "data-task": task.element_id }, [
        el("h4", {}, [task.name + (task.lane ? "（" + task.lane + "）" : ""), " ", el("small", { class: "muted", text: task.form_file || "" })]),
        el("p", { class: "sf-hint", text: "字段：" + fields }),
        box,
        el("button", { type: "button", "data-testid": "dry-run-submit", onclick: function () {
          var data = parsed(box);
          if (data !== null) replay({ kind: "complete", task: task.element_id, data: data });
        } }, ["提交「" + task.name + "」"])
      ]));
    });
  }

  function showJumps(target) {
    var choices = [];
    (state.wakeups || []).forEach(function (w) { choices.push([w.at, "下一次唤醒（定时器或时限预警）：" + w.label]); });
    state.clocks.forEach(function (c) {
      if (!c.closed && c.state !== "met") choices.push([c.due_at, "「" + c.name + "」期限：" + c.due_at_label]);
    });
    var row = el("div", { class: "sf-line" }, [el("strong", { text: "跳到期限：" })]);
    choices.forEach(function (pair) {
      row.appendChild(el("button", { type: "button", "data-testid": "dry-run-jump", onclick: function () {
        replay({ kind: "jump", to: pair[0] });
      } }, [pair[1]]));
    });
    var when = el("input", { type: "datetime-local", "aria-label": "跳到的时刻（北京时间）" });
    row.appendChild(when);
    row.appendChild(el("button", { type: "button", onclick: function () {
      if (when.value) replay({ kind: "jump", to: when.value + ":00+08:00" });
    } }, ["跳到此时刻"]));
    target.appendChild(row);
  }

  // 2026-10-01 … 2026-10-07 as "2026-10-01 至 10-07": consecutive days as one span.
  function spans(dates) {
    var out = [], first = null, last = null;
    function day(d) { return Date.parse(d + "T00:00:00Z") / 86400000; }
    dates.concat([null]).forEach(function (d) {
      if (d !== null && last !== null && day(d) === day(last) + 1) { last = d; return; }
      if (first !== null) out.push(first === last ? first : first + " 至 " + last.slice(5));
      first = last = d;
    });
    return out.join("、");
  }

  function notes(c) {
    var out = [];
    (c.holidays || []).forEach(function (h) { out.push(h.name + "放假 " + spans(h.dates)); });
    (c.workdays || []).forEach(function (w) { out.push(w.name + "上班 " + spans(w.dates)); });
    return out.join("；");
  }

  function table(headers, rows, testid) {
    var body = el("tbody");
    rows.forEach(function (cells) { body.appendChild(el("tr", {}, cells.map(function (c) { return el("td", {}, [c === null || c === undefined ? "" : String(c)]); }))); });
    return el("table", { class: "inbox dr-table", "data-testid": testid }, [
      el("thead", {}, [el("tr", {}, headers.map(function (h) { return el("th", { text: h }); }))]), body
    ]);
  }

  function showClocks(target) {
    target.appendChild(el("h4", { text: "时限（工作日历，北京时间）" }));
    var unit = { working_days: "个工作日", natural_days: "天" };
    target.appendChild(table(["环节", "时限", "起算日", "到期日", "状态", "期间的节假日与调休"], state.clocks.map(function (c) {
      return [c.name, c.limit + (unit[c.unit] || ""), c.started_on, c.due_label, c.state_label, notes(c)];
    }), "dry-run-clocks"));
  }

  function showEvents(target) {
    target.appendChild(el("h4", { text: "审计事件" }));
    var rows = state.events.slice().reverse().map(function (e) {
      return [e.at_label, e.kind, e.element || "", e.actor || "系统", e.step === -1 ? "开始" : (e.step === null ? "" : "第 " + (e.step + 1) + " 步")];
    });
    target.appendChild(table(["时间", "事件", "环节", "操作人", "步"], rows, "dry-run-events"));
  }

  // The path on the diagram: the elements passed, the flows between them, the tasks waiting.
  function mark() {
    var canvas = studio.modeler.get("canvas");
    var registry = studio.modeler.get("elementRegistry");
    marked.forEach(function (m) { if (registry.get(m[0])) canvas.removeMarker(m[0], m[1]); });
    marked = [];
    if (!state || !state.started) return;
    var passed = {};
    state.path.forEach(function (id) { passed[id] = true; });
    var waiting = {};
    state.ready.forEach(function (t) { waiting[t.element_id] = true; });
    registry.forEach(function (element) {
      var cls = null;
      if (waiting[element.id]) cls = "dry-run-current";
      else if (passed[element.id]) cls = "dry-run-path";
      else if (element.waypoints && element.source && element.target && passed[element.source.id] && (passed[element.target.id] || waiting[element.target.id])) cls = "dry-run-path";
      if (cls) { canvas.addMarker(element.id, cls); marked.push([element.id, cls]); }
    });
    var current = state.ready.length && registry.get(state.ready[0].element_id);
    if (current && root.offsetParent !== null) {
      canvas.zoom(0.8);
      canvas.scrollToElement(current, { top: 120, bottom: 120, left: 300, right: 300 });
    }
  }

  function show() {
    var target = part("run");
    target.textContent = "";
    part("save").hidden = !(state && state.started);
    part("undo").disabled = !(run && run.steps.length);
    if (!state) return;
    if (!state.started) { showStart(target); mark(); return; }
    target.appendChild(el("p", { "data-testid": "dry-run-now" }, ["现在：" + state.now_label + "（北京时间）；案件状态：" + ({ running: "办理中", completed: "已办结", failed: "故障" }[state.status] || state.status) + (state.policy ? "；时限政策 " + state.policy : "")]));
    showTasks(target);
    showJumps(target);
    showClocks(target);
    showEvents(target);
    mark();
  }

  function save() {
    var name = part("name").value.trim();
    if (!name) { say("请填写场景名称", true); return; }
    post(api + "/scenario", Object.assign({ name: name }, run)).then(function (answer) {
      if (!answer.ok) { say("未能存为场景：" + refusal(answer.body), true); return; }
      studio.revision = answer.body.revision;
      studio.files[answer.body.file] = answer.body.feature;
      studio.emit("files", studio.files);
      say("已存为场景「" + answer.body.name + "」（草稿的 " + answer.body.file + "）；发布前会与其他场景一起运行。");
      part("saved").textContent = answer.body.scenario;
    });
  }

  // The diagram joins the dry run while its tab is open, so the path shows where it was taken.
  var work = document.querySelector(".studio-work");
  var home = work && work.parentNode;
  var anchor = work && work.nextSibling;
  studio.on("tab", function (key) {
    if (!work) return;
    if (key === "dryrun") part("diagram").appendChild(work);
    else if (work.parentNode !== home) home.insertBefore(work, anchor);
    if (studio.modeler) studio.modeler.get("canvas").resized();
  });

  part("day").value = today();
  part("begin").addEventListener("click", begin);
  part("undo").addEventListener("click", function () {
    if (!run || !run.steps.length) return;
    run.steps = run.steps.slice(0, -1);
    replay(null);
  });
  part("save-button").addEventListener("click", save);
  show();
})();
