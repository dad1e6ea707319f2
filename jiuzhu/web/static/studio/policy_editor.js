/* 流程设计 · 时限编辑器: a draft's SLA policy (*.sla.json) as a table, checked as deploy checks it,
   and a dry run that shows every stage's deadline on the working-day calendar in force.
   Mounted in #studio-policy; reads and saves files through window.jiuzhuStudio (editor.js). */
(function () {
  "use strict";

  var UNITS = [["working_days", "工作日"], ["natural_days", "自然日"]];
  var KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

  var el = window.jiuzhuDom.el;

  function csrf(studio) {
    if (studio && studio.csrf) return studio.csrf;
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) return meta.content;
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; } catch (e) { return ""; }
  }

  function post(studio, url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(studio) },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, status: r.status, body: j }; }); });
  }

  function parseJson(text) {
    try { return { value: JSON.parse(text) }; } catch (e) {
      var m = /line (\d+) column (\d+)/.exec(e.message), pos = /position (\d+)/.exec(e.message), where = "末尾";
      if (m) where = "第 " + m[1] + " 行第 " + m[2] + " 列";
      else if (pos) { var b = text.slice(0, +pos[1]).split("\n"); where = "第 " + b.length + " 行第 " + (b[b.length - 1].length + 1) + " 列"; }
      return { error: "JSON 格式错误（" + where + "）：" + e.message };
    }
  }

  function list(text) { return text.split(/[,，、]/).map(function (v) { return v.trim(); }).filter(Boolean); }
  function roles(limit) { var e = limit.escalate_to; return Array.isArray(e) ? e.join("、") : e || ""; }

  function today() {
    var d = new Date(Date.now() + 8 * 3600 * 1000);  // the Beijing day, as deadlines are
    return d.toISOString().slice(0, 10);
  }

  function PolicyEditor(root, studio) {
    this.root = root; this.studio = studio; this.name = null; this.policy = null; this.dirty = false; this.timer = null;
    this.build(); this.refreshList();
  }

  PolicyEditor.prototype.files = function () { return this.studio.files || {}; };

  PolicyEditor.prototype.build = function () {
    var self = this;
    this.root.classList.add("studio-policy");
    this.picker = el("select", { "data-testid": "policy-file", "aria-label": "时限政策文件", onchange: function (e) { self.open(e.target.value); } });
    this.status = el("span", { "class": "sf-status", role: "status", "data-testid": "policy-status" });
    this.head = el("div", { "class": "sp-head" });
    this.table = el("div", { "class": "sp-table" });
    this.problems = el("ul", { "class": "sf-problems", "data-testid": "policy-problems" });
    this.date = el("input", { type: "date", value: today(), "data-testid": "dryrun-date", "aria-label": "受理日期" });
    this.region = el("select", { "data-testid": "dryrun-region", "aria-label": "地区" });
    this.result = el("div", { "class": "sp-result", "data-testid": "dryrun-result" });
    this.root.innerHTML = "";
    this.root.appendChild(el("div", { "class": "sf-toolbar" }, [
      el("label", {}, ["时限政策 ", this.picker]),
      el("button", { type: "button", text: "新建时限政策", "data-testid": "new-policy", onclick: function () { self.create(); } }),
      el("button", { type: "button", "class": "sf-save", text: "保存", "data-testid": "save-policy", onclick: function () { self.save(); } }),
      this.status]));
    this.root.appendChild(this.head);
    this.root.appendChild(this.table);
    this.root.appendChild(this.problems);
    this.root.appendChild(el("section", { "class": "sp-dryrun" }, [
      el("h3", { text: "时限试算" }),
      el("p", { "class": "sf-hint", text: "选择受理日期和地区，按当前生效的工作日历计算各环节（假定于受理日开始）的到期日。" }),
      el("div", { "class": "sf-toolbar" }, [el("label", {}, ["受理日期 ", this.date]), el("label", {}, ["地区 ", this.region]),
        el("button", { type: "button", text: "试算", "data-testid": "dryrun", onclick: function () { self.dryRun(); } })]),
      this.result]));
    if (this.studio.on) this.studio.on("files", function () { self.refreshList(); });
  };

  PolicyEditor.prototype.refreshList = function () {
    var self = this, names = Object.keys(this.files()).filter(function (n) { return /\.sla\.json$/.test(n); }).sort();
    this.picker.innerHTML = "";
    names.forEach(function (n) { self.picker.appendChild(el("option", { value: n, selected: n === self.name, text: n })); });
    if (!names.length) { this.table.innerHTML = ""; this.head.textContent = "草稿中还没有时限政策文件（*.sla.json）。"; this.name = null; return; }
    if (!this.name || names.indexOf(this.name) < 0) this.open(names[0]);
  };

  PolicyEditor.prototype.create = function () {
    var pid = this.studio.processId || "process", dir = "processes/sla/";
    var existing = Object.keys(this.files()).filter(function (n) { return /\.sla\.json$/.test(n); });
    if (existing.length) dir = existing[0].replace(/[^/]*$/, "");
    var name = dir + pid + ".national.sla.json", n = 2;
    while (this.files()[name] !== undefined) name = dir + pid + ".national" + (n++) + ".sla.json";
    var policy = { id: name.replace(/^.*\//, "").replace(/\.sla\.json$/, ""), version: "1", procedure: pid, title: "时限政策",
      source: "（请填写法律依据）", processes: [pid], regions: ["CN"],
      overall: { name: "总时限", limit: 30, unit: "working_days", warn_before: 5, source: "（请填写）" }, stages: {} };
    this.files()[name] = JSON.stringify(policy, null, 2) + "\n";
    this.name = null; this.refreshList(); this.open(name); this.dirty = true; this.save();
  };

  PolicyEditor.prototype.open = function (name) {
    var parsed = parseJson(this.files()[name] || "");
    this.name = name; this.dirty = false;
    this.policy = parsed.error ? null : parsed.value;
    this.picker.value = name;
    this.render();
    if (parsed.error) { this.showProblems([{ message: parsed.error, code: "JSON" }]); return; }
    this.check();
  };

  PolicyEditor.prototype.changed = function (rerender) {
    this.dirty = true; this.status.textContent = "有未保存的修改"; this.status.classList.remove("bad");
    if (rerender) this.render();
    var self = this; clearTimeout(this.timer); this.timer = setTimeout(function () { self.check(); }, 400);
  };

  PolicyEditor.prototype.text = function () { return JSON.stringify(this.policy, null, 2) + "\n"; };

  PolicyEditor.prototype.render = function () {
    var self = this, p = this.policy;
    this.head.innerHTML = ""; this.table.innerHTML = "";
    if (!p) { this.head.textContent = "此文件不是有效的 JSON，无法以表格编辑。"; return; }
    function text(label, key, split) {
      var value = split ? (p[key] || []).join("、") : p[key] || "";
      return el("label", {}, [label + " ", el("input", { type: "text", value: value, "data-field": key, onchange: function (e) {
        p[key] = split ? list(e.target.value) : e.target.value; self.changed(false); } })]);
    }
    this.head.appendChild(el("div", { "class": "sf-line" }, [text("标识", "id"), text("版本", "version"), text("标题", "title"),
      text("适用流程", "processes", true), text("适用地区", "regions", true), text("依据文件", "source")]));
    var rows = [["overall", p.overall || (p.overall = {})]];
    Object.keys(p.stages || (p.stages = {})).forEach(function (k) { rows.push([k, p.stages[k]]); });
    var body = el("tbody", {}, rows.map(function (r) { return self.row(r[0], r[1]); }));
    this.table.appendChild(el("table", { "data-testid": "policy-table" }, [el("thead", {}, [el("tr", {}, ["环节标识", "名称", "时限", "单位",
      "提前预警", "督办对象", "计入总时限", "法律依据", ""].map(function (h) { return el("th", { text: h }); }))]), body]));
    this.table.appendChild(el("button", { type: "button", text: "添加环节", "data-testid": "add-stage", onclick: function () {
      var n = Object.keys(p.stages).length + 1, key = "stage_" + n;
      while (p.stages[key]) key = "stage_" + (++n);
      p.stages[key] = { name: "新环节", limit: 5, unit: "working_days", warn_before: 1, source: "" };
      self.changed(true);
    } }));
  };

  PolicyEditor.prototype.row = function (key, limit) {
    var self = this, p = this.policy, overall = key === "overall", at = overall ? "overall." : "stages." + key + ".";
    function cell(field, input) { return el("td", { "data-field": at + field }, [input]); }
    function number(field) {
      return el("input", { type: "number", min: 0, step: 1, value: limit[field] === undefined ? "" : limit[field], "aria-label": field,
        onchange: function (e) { if (e.target.value === "") delete limit[field]; else limit[field] = Number(e.target.value); self.changed(false); } });
    }
    var keyInput = overall ? el("span", { text: "总时限" }) : el("input", { type: "text", value: key, "aria-label": "环节标识", onchange: function (e) {
      var next = e.target.value.trim();
      if (!KEY.test(next) || p.stages[next]) { e.target.setCustomValidity("环节标识须以字母开头、只含字母数字下划线，且不重复"); e.target.reportValidity(); return; }
      var stages = {};
      Object.keys(p.stages).forEach(function (k) { stages[k === key ? next : k] = p.stages[k]; });
      p.stages = stages;
      if (Array.isArray(p.pause_stages)) p.pause_stages = p.pause_stages.map(function (k) { return k === key ? next : k; });
      self.changed(true);
    } });
    return el("tr", { "data-stage": key }, [
      el("td", { "data-field": at.slice(0, -1) }, [keyInput]),
      cell("name", el("input", { type: "text", value: limit.name || "", "aria-label": "名称", onchange: function (e) { limit.name = e.target.value; self.changed(false); } })),
      cell("limit", number("limit")),
      cell("unit", el("select", { "aria-label": "单位", onchange: function (e) { limit.unit = e.target.value; self.changed(false); } },
        UNITS.map(function (u) { return el("option", { value: u[0], selected: limit.unit === u[0], text: u[1] }); }))),
      cell("warn_before", number("warn_before")),
      cell("escalate_to", el("input", { type: "text", value: roles(limit), "aria-label": "督办对象", onchange: function (e) {
        var r = list(e.target.value);
        if (!r.length) delete limit.escalate_to; else limit.escalate_to = r.length === 1 ? r[0] : r;
        self.changed(false);
      } })),
      cell("counts_in_overall", overall ? el("span", { text: "—" }) : el("input", { type: "checkbox", checked: limit.counts_in_overall !== false,
        "aria-label": "计入总时限", onchange: function (e) {
          if (e.target.checked) delete limit.counts_in_overall; else limit.counts_in_overall = false; self.changed(false); } })),
      cell("source", el("input", { type: "text", value: limit.source || "", "aria-label": "法律依据", onchange: function (e) {
        if (e.target.value) limit.source = e.target.value; else delete limit.source; self.changed(false); } })),
      el("td", {}, [overall ? null : el("button", { type: "button", "class": "sf-danger", text: "删除", onclick: function () {
        delete p.stages[key];
        if (Array.isArray(p.pause_stages)) p.pause_stages = p.pause_stages.filter(function (k) { return k !== key; });
        self.changed(true);
      } })])
    ]);
  };

  PolicyEditor.prototype.showProblems = function (problems) {
    var self = this;
    this.problems.innerHTML = "";
    this.table.querySelectorAll(".sp-bad").forEach(function (c) { c.classList.remove("sp-bad"); });
    (problems || []).forEach(function (p) {
      self.problems.appendChild(el("li", { "class": "sf-problem" }, [p.message + " ", el("code", { text: p.code || "" })]));
      var field = p.field || "", cell = null;
      while (field && !cell) {
        cell = self.table.querySelector('[data-field="' + field + '"]') || self.head.querySelector('[data-field="' + field + '"]');
        field = field.replace(/\.?[^.]*$/, "");
      }
      if (cell) cell.classList.add("sp-bad");
    });
    if (!problems || !problems.length) this.problems.appendChild(el("li", { "class": "sf-ok", text: "校验通过：与部署时的检查一致，没有发现问题。" }));
  };

  PolicyEditor.prototype.check = function () {
    var self = this;
    if (!this.policy) return;
    post(this.studio, "/api/studio/policy-check", { name: this.name, text: this.text() }).then(function (r) {
      self.showProblems(r.ok ? r.body.problems : r.body.problems || [{ message: r.body.message, code: r.body.code }]);
      if (!r.ok || !r.body.regions.length) return;
      var keep = self.region.value;
      self.region.innerHTML = "";
      r.body.regions.forEach(function (g) { self.region.appendChild(el("option", { value: g, selected: g === keep, text: g })); });
    });
  };

  function md(iso) { return +iso.slice(5, 7) + "月" + +iso.slice(8, 10) + "日"; }

  // "国庆节 10月1日–10月7日（7天）": consecutive dates as one run.
  function days(blocks) {
    return (blocks || []).map(function (b) {
      var runs = [], first = null, last = null;
      b.dates.forEach(function (d) {
        var t = Date.parse(d);
        if (last !== null && t - Date.parse(last) === 86400000) { last = d; return; }
        if (first) runs.push([first, last]);
        first = last = d;
      });
      if (first) runs.push([first, last]);
      return b.name + " " + runs.map(function (r) { return r[0] === r[1] ? md(r[0]) : md(r[0]) + "–" + md(r[1]); }).join("、") +
        "（" + b.dates.length + "天）";
    }).join("；") || "—";
  }

  PolicyEditor.prototype.dryRun = function () {
    var self = this;
    if (!this.policy) return;
    var body = { name: this.name, text: this.text(), accepted_on: this.date.value, region: this.region.value || null };
    this.result.textContent = "正在计算…";
    post(this.studio, "/api/studio/policy-dryrun", body).then(function (r) {
      var out = self.result;
      out.innerHTML = "";
      if (!r.ok) {
        out.appendChild(el("p", { "class": "sf-bad", text: r.body.message || "试算失败" }));
        out.appendChild(el("ul", {}, (r.body.problems || []).map(function (p) { return el("li", { text: p.message }); })));
        return;
      }
      var d = r.body;
      out.appendChild(el("p", { text: "受理日期 " + d.accepted_on + "，地区 " + d.region + "，日历版本 " + d.calendar_version }));
      d.warnings.forEach(function (w) { out.appendChild(el("p", { "class": "sf-bad", text: w })); });
      out.appendChild(el("table", { "data-testid": "dryrun-table" }, [
        el("thead", {}, [el("tr", {}, ["环节", "时限", "起算日", "到期日（北京时间）", "预警日", "期间节假日", "期间调休上班", "说明"].map(function (h) { return el("th", { text: h }); }))]),
        el("tbody", {}, d.stages.map(function (s) {
          return el("tr", { "data-stage": s.stage }, [
            el("td", { text: s.name }), el("td", { text: s.limit + " 个" + s.unit_label }), el("td", { text: s.start }),
            el("td", { "class": "sp-deadline", text: s.deadline + (s.provisional ? "（暂定）" : "") }), el("td", { text: s.warn_on || "—" }),
            el("td", { text: days(s.holidays) }), el("td", { text: days(s.workdays) }), el("td", { text: s.notes.join("；") || "" })]);
        }))]));
    });
  };

  PolicyEditor.prototype.save = function () {
    var self = this, name = this.name;
    if (!name || !this.policy) return Promise.resolve();
    var text = this.text();
    this.status.textContent = "正在保存…";
    return Promise.resolve(this.studio.saveFile(name, text)).then(function () {
      self.files()[name] = text; self.dirty = false; self.status.textContent = "已保存"; self.status.classList.remove("bad");
    }, function (e) { self.status.textContent = "保存失败：" + (e && e.message ? e.message : e); self.status.classList.add("bad"); });
  };

  function mount() {
    var root = document.getElementById("studio-policy");
    if (!root || root.dataset.mounted) return;
    if (!window.jiuzhuStudio || !window.jiuzhuStudio.files) { setTimeout(mount, 100); return; }
    root.dataset.mounted = "1";
    window.jiuzhuPolicyEditor = new PolicyEditor(root, window.jiuzhuStudio);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount); else mount();
})();
