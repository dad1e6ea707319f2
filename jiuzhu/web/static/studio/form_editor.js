/* 流程设计 · 表单编辑器: a draft's JSON-schema forms as a field list and as code, with a live
   preview drawn by the server's own form renderer and 试填 checked by the engine's own validation.
   Mounted in #studio-forms; reads and saves files through window.jiuzhuStudio (editor.js). */
(function () {
  "use strict";

  // The formats engine/forms/formats.py registers, by the names a schema uses.
  var FORMATS = [["", "无"], ["cn-id-number", "身份证号"], ["cn-mobile", "手机号"], ["bank-card", "银行卡号"], ["money", "金额"]];
  var TYPES = [["text", "文本"], ["number", "数字"], ["money", "金额"], ["date", "日期"], ["boolean", "是否"],
    ["choice", "选项"], ["list", "列表"], ["other", "其他（请在代码中编辑）"]];
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

  // What V8's JSON.parse says, in Chinese (the code view's inline diagnostic and the status line).
  var JSON_REASONS = [
    [/Unexpected end of JSON input|Unterminated/, "内容不完整：缺少结尾的引号、括号或花括号"],
    [/Expected double-quoted property name/, "此处应为带双引号的键名（或多了一个逗号）"],
    [/Expected ',' or '\}'/, "此处应为逗号或右花括号 }"],
    [/Expected ',' or '\]'/, "此处应为逗号或右方括号 ]"],
    [/Expected ':'/, "键名后应为冒号 :"],
    [/Bad control character|Bad escaped character/, "字符串中有不允许的控制字符或转义"],
    [/non-whitespace character after JSON/, "JSON 结束后还有多余的内容"],
    [/Unexpected token|Unexpected number|Unexpected string|is not valid JSON/, "此处有不符合 JSON 语法的字符"]
  ];
  function jsonReason(message) {
    for (var i = 0; i < JSON_REASONS.length; i++) if (JSON_REASONS[i][0].test(message)) return JSON_REASONS[i][1];
    return "不符合 JSON 语法";
  }

  // A JSON.parse error located by line, column and character offset (V8 reports a position).
  function parseJson(text) {
    try { return { value: JSON.parse(text) }; } catch (e) {
      var m = /line (\d+) column (\d+)/.exec(e.message), pos = /position (\d+)/.exec(e.message), line, col, at = null;
      if (pos) at = +pos[1];
      else if (m) at = text.split("\n").slice(0, +m[1] - 1).join("\n").length + (+m[1] > 1 ? 1 : 0) + (+m[2] - 1);
      else at = text.length;
      var before = text.slice(0, at).split("\n"); line = before.length; col = before[before.length - 1].length + 1;
      var reason = jsonReason(e.message);
      return { error: "JSON 格式错误（第 " + line + " 行第 " + col + " 列）：" + reason, reason: reason, line: line, col: col, pos: at };
    }
  }

  function isForm(name) {
    return /\.json$/.test(name) && !/-uischema\.json$/.test(name) && !/\.sla\.json$/.test(name) &&
      (/-schema\.json$/.test(name) || /(^|\/)forms\//.test(name));
  }
  function uiName(name) { return /-schema\.json$/.test(name) ? name.replace(/-schema\.json$/, "-uischema.json") : name.replace(/\.json$/, "-uischema.json"); }

  function kindOf(s) {
    if (!s || typeof s !== "object") return "other";
    if (s.type === "array" && s.items && s.items.type === "object") return "list";
    if (s.type === "boolean") return "boolean";
    if (s.type === "number" && s.format === "money") return "money";
    if (s.type === "number" || s.type === "integer") return "number";
    if (s.type === "string" && Array.isArray(s["enum"])) return "choice";
    if (s.type === "string" && s.format === "date") return "date";
    if (s.type === "string") return "text";
    return "other";
  }

  function freshField(kind, title) {
    var s = { title: title };
    if (kind === "number") s.type = "number";
    else if (kind === "money") { s.type = "number"; s.format = "money"; }
    else if (kind === "date") { s.type = "string"; s.format = "date"; }
    else if (kind === "boolean") s.type = "boolean";
    else if (kind === "choice") { s.type = "string"; s["enum"] = ["选项一", "选项二"]; }
    else if (kind === "list") s = { type: "array", title: title, items: { type: "object", properties: {}, required: [] } };
    else s.type = "string";
    return s;
  }

  // Conditional requirement: {"if": {"properties": {T: {"const": v}}, "required": [T]}, "then": {"required": [K]}}.
  function conditionsOf(obj) {
    var parts = [];
    if (obj["if"]) parts.push(obj);
    (obj.allOf || []).forEach(function (p) { if (p && p["if"]) parts.push(p); });
    return parts;
  }
  function conditionFor(obj, key) {
    var found = null;
    conditionsOf(obj).forEach(function (p) {
      var props = (p["if"] || {}).properties || {}, names = Object.keys(props);
      if (!found && p.then && (p.then.required || []).indexOf(key) >= 0 && names.length === 1 && "const" in props[names[0]]) {
        found = { trigger: names[0], value: props[names[0]].const };
      }
    });
    return found;
  }
  function dropCondition(obj, key) {
    conditionsOf(obj).forEach(function (p) {
      if (p.then && Array.isArray(p.then.required)) p.then.required = p.then.required.filter(function (k) { return k !== key; });
    });
    if (obj.allOf) {
      obj.allOf = obj.allOf.filter(function (p) { return !(p && p["if"] && p.then && p.then.required && !p.then.required.length && !p["else"]); });
      if (!obj.allOf.length) delete obj.allOf;
    }
  }
  function setCondition(obj, key, trigger, value) {
    dropCondition(obj, key);
    if (!trigger) return;
    var test = {}; test[trigger] = { "const": value };
    obj.allOf = obj.allOf || [];
    obj.allOf.push({ "if": { properties: test, required: [trigger] }, then: { required: [key] } });
  }

  function FormEditor(root, studio) {
    this.root = root; this.studio = studio; this.name = null;
    this.schema = null; this.ui = {}; this.hadUi = false; this.dirty = false; this.tab = "fields"; this.timer = null;
    this.build();
    this.refreshList();
  }

  FormEditor.prototype.build = function () {
    var self = this;
    this.root.classList.add("studio-forms");
    this.list = el("ul", { "class": "sf-files", "data-testid": "form-files" });
    this.newName = el("input", { type: "text", placeholder: "表单名，如 tanfang-register", "aria-label": "新表单名", "data-testid": "new-form-name" });
    this.status = el("span", { "class": "sf-status", role: "status", "data-testid": "form-status" });
    this.body = el("div", { "class": "sf-body" });
    this.frame = el("iframe", { "class": "sf-preview", title: "表单预览", "data-testid": "form-preview" });
    this.frame.addEventListener("load", function () { self.hookFrame(); });
    this.problems = el("ul", { "class": "sf-problems", "data-testid": "form-problems" });
    this.tryOut = el("div", { "class": "sf-try", role: "status", "data-testid": "form-try-result" });
    this.root.innerHTML = "";
    this.root.appendChild(el("div", { "class": "sf-layout" }, [
      el("aside", { "class": "sf-side" }, [el("h3", { text: "表单文件" }), this.list,
        el("div", { "class": "sf-new" }, [this.newName, el("button", { type: "button", text: "新建表单", "data-testid": "new-form", onclick: function () { self.create(); } })])]),
      el("section", { "class": "sf-main" }, [
        el("div", { "class": "sf-toolbar" }, [
          el("button", { type: "button", text: "字段", "data-tab": "fields", onclick: function () { self.show("fields"); } }),
          el("button", { type: "button", text: "代码", "data-tab": "code", onclick: function () { self.show("code"); } }),
          el("button", { type: "button", "class": "sf-save", text: "保存", "data-testid": "save-form", onclick: function () { self.save(); } }),
          this.status]),
        this.body]),
      el("section", { "class": "sf-right" }, [
        el("div", { "class": "sf-toolbar" }, [el("h3", { text: "预览" }),
          el("button", { type: "button", text: "试填", "data-testid": "try-form", onclick: function () { self.tryFill(); } })]),
        this.problems, this.frame, this.tryOut])
    ]));
    if (this.studio.on) {
      this.studio.on("files", function () { self.refreshList(); });
      this.studio.on("saved", function () { self.refreshList(); });
    }
  };

  FormEditor.prototype.files = function () { return this.studio.files || {}; };

  FormEditor.prototype.refreshList = function () {
    var self = this, names = Object.keys(this.files()).filter(isForm).sort();
    this.list.innerHTML = "";
    if (!names.length) this.list.appendChild(el("li", { "class": "sf-empty", text: "草稿中还没有表单" }));
    names.forEach(function (name) {
      self.list.appendChild(el("li", {}, [el("button", { type: "button", "class": name === self.name ? "active" : null, text: name,
        onclick: function () { self.open(name); } })]));
    });
    if (!this.name && names.length) this.open(names[0]);
    else if (!this.name) this.body.innerHTML = "";
  };

  FormEditor.prototype.open = function (name) {
    if (this.dirty && this.name && !window.confirm("表单 " + this.name + " 有未保存的修改，仍要切换吗？")) return;
    var files = this.files(), parsed = parseJson(files[name] || "{}"), ui = files[uiName(name)];
    this.name = name; this.dirty = false; this.codeError = null; this.lastData = null;
    this.schema = parsed.error ? null : parsed.value;
    this.hadUi = ui !== undefined;
    var parsedUi = ui !== undefined ? parseJson(ui) : { value: {} };
    this.ui = parsedUi.error ? {} : parsedUi.value;
    this.tab = this.schema ? this.tab : "code";
    this.schemaText = files[name] || ""; this.uiText = ui !== undefined ? ui : "{}";
    this.refreshListMarks(); this.render(); this.preview();
  };

  FormEditor.prototype.refreshListMarks = function () {
    var self = this;
    this.list.querySelectorAll("button").forEach(function (b) { b.classList.toggle("active", b.textContent === self.name); });
  };

  FormEditor.prototype.create = function () {
    var base = this.newName.value.trim().replace(/-schema\.json$/, "");
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(base)) { this.setStatus("表单名只能用小写字母、数字、- 和 _", true); return; }
    var existing = Object.keys(this.files()).filter(isForm), dir = existing.length ? existing[0].replace(/[^/]*$/, "") : "forms/";
    var name = dir + base + "-schema.json";
    if (this.files()[name] !== undefined) { this.setStatus("已有表单 " + name, true); return; }
    var schema = { type: "object", title: "新表单", properties: {}, required: [] };
    this.files()[name] = JSON.stringify(schema, null, 2) + "\n";
    this.newName.value = "";
    this.name = null; this.dirty = false;
    this.refreshList(); this.open(name); this.dirty = true; this.save();
  };

  FormEditor.prototype.show = function (tab) { this.tab = tab; this.render(); };

  FormEditor.prototype.changed = function (rerender) {
    this.dirty = true; this.setStatus("有未保存的修改");
    this.schemaText = JSON.stringify(this.schema, null, 2) + "\n"; this.uiText = JSON.stringify(this.ui, null, 2) + "\n";
    if (rerender) this.render();
    this.schedulePreview();
  };

  FormEditor.prototype.setStatus = function (text, bad) { this.status.textContent = text; this.status.classList.toggle("bad", !!bad); };

  FormEditor.prototype.render = function () {
    var self = this;
    this.root.querySelectorAll("[data-tab]").forEach(function (b) { b.classList.toggle("active", b.dataset.tab === self.tab); });
    this.body.innerHTML = ""; this.editors = {};
    if (!this.name) return;
    if (this.tab === "code" || !this.schema) { this.renderCode(); return; }
    var s = this.schema;
    this.body.appendChild(el("div", { "class": "sf-form-head" }, [
      el("label", {}, ["表单标题 ", el("input", { type: "text", value: s.title || "", "data-testid": "form-title",
        oninput: function (e) { s.title = e.target.value; self.changed(false); } })])]));
    this.body.appendChild(this.fieldList(s, this.ui, ""));
  };

  // The fields of one object schema (the form, or a 列表's row), editable in place.
  FormEditor.prototype.fieldList = function (obj, ui, path) {
    var self = this, props = obj.properties = obj.properties || {}, keys = Object.keys(props), box = el("div", { "class": "sf-fields" });
    obj.required = obj.required || [];
    keys.forEach(function (key, i) { box.appendChild(self.fieldRow(obj, ui, key, i, keys, path)); });
    box.appendChild(el("button", { type: "button", "class": "sf-add", text: path ? "添加列表项字段" : "添加字段", "data-testid": "add-field",
      onclick: function () {
        var n = keys.length + 1, key = "field_" + n;
        while (props[key]) key = "field_" + (++n);
        props[key] = freshField("text", "新字段" + n);
        self.reorder(obj, ui, Object.keys(props)); self.changed(true);
      } }));
    return box;
  };

  FormEditor.prototype.reorder = function (obj, ui, order) {
    var old = obj.properties, next = {};
    order.forEach(function (k) { next[k] = old[k]; });
    obj.properties = next;
    if (ui && Array.isArray(ui["ui:order"])) ui["ui:order"] = order.concat(ui["ui:order"].indexOf("*") >= 0 ? ["*"] : []);
  };

  FormEditor.prototype.fieldRow = function (obj, ui, key, index, keys, path) {
    var self = this, s = obj.properties[key], kind = kindOf(s), required = obj.required.indexOf(key) >= 0, id = (path + key).replace(/\W/g, "_");
    var row = el("fieldset", { "class": "sf-field", "data-key": path + key });
    function move(delta) {
      var order = keys.slice(), j = index + delta;
      if (j < 0 || j >= order.length) return;
      order[index] = order[j]; order[j] = key; self.reorder(obj, ui, order); self.changed(true);
    }
    function rename(e) {
      var next = e.target.value.trim();
      if (next === key) return;
      if (!KEY.test(next) || obj.properties[next]) { e.target.setCustomValidity("键名须以字母开头、只含字母数字下划线，且不重复"); e.target.reportValidity(); return; }
      e.target.setCustomValidity("");
      var order = keys.map(function (k) { return k === key ? next : k; }), cond = conditionFor(obj, key);
      obj.properties[next] = s; delete obj.properties[key];
      obj.required = obj.required.map(function (k) { return k === key ? next : k; });
      if (cond) { dropCondition(obj, key); setCondition(obj, next, cond.trigger, cond.value); }
      conditionsOf(obj).forEach(function (p) {
        var t = (p["if"] || {}).properties;
        if (t && t[key]) { t[next] = t[key]; delete t[key]; p["if"].required = (p["if"].required || []).map(function (k) { return k === key ? next : k; }); }
      });
      if (ui && ui[key]) { ui[next] = ui[key]; delete ui[key]; }
      self.reorder(obj, ui, order); self.changed(true);
    }
    row.appendChild(el("legend", { text: (index + 1) + ". " + (s.title || key) }));
    var typeSelect = el("select", { id: id + "-type", "data-testid": "field-type", onchange: function (e) {
      var fresh = freshField(e.target.value, s.title || key);
      if (s.description) fresh.description = s.description;
      obj.properties[key] = fresh; self.changed(true);
    } }, TYPES.map(function (t) { return el("option", { value: t[0], selected: t[0] === kind, text: t[1] }); }));
    row.appendChild(el("div", { "class": "sf-line" }, [
      el("label", {}, ["标题 ", el("input", { type: "text", value: s.title || "", "data-testid": "field-title",
        oninput: function (e) { s.title = e.target.value; self.changed(false); } })]),
      el("label", {}, ["键名 ", el("input", { type: "text", value: key, "data-testid": "field-key", onchange: rename })]),
      el("label", {}, ["类型 ", typeSelect]),
      el("label", {}, [el("input", { type: "checkbox", checked: required, "data-testid": "field-required", onchange: function (e) {
        obj.required = obj.required.filter(function (k) { return k !== key; });
        if (e.target.checked) { obj.required.push(key); dropCondition(obj, key); }
        self.changed(true);
      } }), " 必填"]),
      el("span", { "class": "sf-moves" }, [
        el("button", { type: "button", text: "上移", disabled: index === 0, onclick: function () { move(-1); } }),
        el("button", { type: "button", text: "下移", disabled: index === keys.length - 1, onclick: function () { move(1); } }),
        el("button", { type: "button", "class": "sf-danger", text: "删除", onclick: function () {
          delete obj.properties[key]; obj.required = obj.required.filter(function (k) { return k !== key; });
          dropCondition(obj, key); if (ui) delete ui[key];
          self.reorder(obj, ui, keys.filter(function (k) { return k !== key; })); self.changed(true);
        } })])
    ]));
    if (kind === "text") {
      row.appendChild(el("label", {}, ["格式 ", el("select", { "data-testid": "field-format", onchange: function (e) {
        if (e.target.value) s.format = e.target.value; else delete s.format; self.changed(false);
      } }, FORMATS.map(function (f) { return el("option", { value: f[0], selected: (s.format || "") === f[0], text: f[1] }); }))]));
    }
    if (kind === "choice") {
      row.appendChild(el("label", { "class": "sf-wide" }, ["选项（每行一个） ", el("textarea", { rows: 3, "data-testid": "field-enum",
        oninput: function (e) { s["enum"] = e.target.value.split("\n").map(function (v) { return v.trim(); }).filter(Boolean); self.changed(false); }
      }, [s["enum"].join("\n")])]));
    }
    if (!required) row.appendChild(this.conditionLine(obj, key, keys));
    if (kind === "list") {
      var itemUi = ui && ui[key] && ui[key].items ? ui[key].items : null;
      row.appendChild(el("div", { "class": "sf-nested" }, [el("p", { "class": "sf-hint", text: "列表中每一项包含的字段：" }),
        this.fieldList(s.items, itemUi, path + key + "/")]));
    }
    return row;
  };

  FormEditor.prototype.conditionLine = function (obj, key, keys) {
    var self = this, cond = conditionFor(obj, key), others = keys.filter(function (k) { return k !== key && kindOf(obj.properties[k]) !== "list"; });
    var valueBox = el("span", {});
    function valueInput(trigger, current) {
      var t = obj.properties[trigger] || {}, k = kindOf(t), input;
      valueBox.innerHTML = "";
      if (!trigger) return;
      var choices = k === "boolean" ? [[true, "是"], [false, "否"]] : k === "choice" ? t["enum"].map(function (v) { return [v, v]; }) : null;
      if (choices) {
        input = el("select", { "data-testid": "condition-value" }, choices.map(function (c, i) {
          return el("option", { value: String(i), selected: current === c[0], text: c[1] }); }));
        input.addEventListener("change", function () { setCondition(obj, key, trigger, choices[+input.value][0]); self.changed(false); });
        if (current === undefined || !choices.some(function (c) { return c[0] === current; })) setCondition(obj, key, trigger, choices[0][0]);
      } else {
        input = el("input", { type: "text", value: current === undefined ? "" : String(current), "data-testid": "condition-value" });
        input.addEventListener("change", function () {
          var v = input.value, num = Number(v);
          setCondition(obj, key, trigger, (k === "number" || k === "money") && v !== "" && !isNaN(num) ? num : v); self.changed(false);
        });
      }
      valueBox.appendChild(el("span", {}, [" 为 ", input, " 时必填"]));
    }
    var select = el("select", { "data-testid": "condition-trigger", onchange: function (e) {
      if (!e.target.value) { dropCondition(obj, key); valueInput(""); } else valueInput(e.target.value, undefined);
      self.changed(false);
    } }, [el("option", { value: "", text: "（无条件）" })].concat(others.map(function (k) {
      return el("option", { value: k, selected: cond && cond.trigger === k, text: obj.properties[k].title || k }); })));
    valueInput(cond ? cond.trigger : "", cond ? cond.value : undefined);
    return el("div", { "class": "sf-line" }, [el("label", {}, ["条件必填：当 ", select]), valueBox]);
  };

  // The code view: CodeMirror (jiuzhu/web/studio_bundle/code-editor.js) when its bundle is loaded,
  // else plain text areas. Syntax errors and the server's schema problems are shown in the text.
  FormEditor.prototype.renderCode = function () {
    var self = this;
    this.editors = {};
    function area(label, text, which) {
      var error = el("p", { "class": "sf-code-error", role: "alert", "data-testid": "code-error-" + which });
      var code, box;
      function typed(value) {
        var parsed = parseJson(value);
        error.textContent = parsed.error || "";
        if (code) { code.syntax = parsed.error ? [{ from: parsed.pos, to: parsed.pos + 1, message: parsed.error, code: "JSON_SYNTAX" }] : []; code.server = []; self.mark(code); }
        if (parsed.error) { self.codeError = parsed; return; }
        self.codeError = null;
        if (which === "schema") { self.schema = parsed.value; self.schemaText = value; } else { self.ui = parsed.value; self.uiText = value; }
        self.dirty = true; self.setStatus("有未保存的修改"); self.schedulePreview();
      }
      if (window.jiuzhuCode) {
        box = el("div", { "class": "sf-code sf-cm", "data-testid": "code-" + which });
        code = { syntax: [], server: [], handle: window.jiuzhuCode.editor(box, { language: "json", doc: text, label: label, lines: which === "schema" ? 18 : 6,
          maxHeight: "32em", onChange: typed }) };
        self.editors[which] = code;
        error.addEventListener("click", function () { if (self.codeError) code.handle.select(self.codeError.pos, self.codeError.pos); });
      } else {
        box = el("textarea", { "class": "sf-code", spellcheck: "false", rows: 18, "data-testid": "code-" + which, "aria-label": label }, [text]);
        box.value = text;
        box.addEventListener("input", function () { typed(box.value); });
        error.addEventListener("click", function () {
          var parsed = parseJson(box.value);
          if (parsed.pos !== null && parsed.pos !== undefined) { box.focus(); box.setSelectionRange(parsed.pos, parsed.pos + 1); }
        });
      }
      return el("div", { "class": "sf-code-box" }, [el("h4", { text: label }), box, error]);
    }
    this.body.appendChild(area("表单 schema（" + this.name + "）", this.schemaText, "schema"));
    this.body.appendChild(area("界面配置 uischema（" + uiName(this.name) + "）", this.uiText, "ui"));
  };

  FormEditor.prototype.mark = function (code) { code.handle.setProblems(code.syntax.concat(code.server)); };

  // The server's problems (located by a JSON path in `field`) as diagnostics in the code view:
  // at the path in the schema, else in the UI schema, else at the nearest enclosing key.
  FormEditor.prototype.markServer = function (problems) {
    var self = this, editors = this.tab === "code" && this.editors ? this.editors : {};
    var targets = ["schema", "ui"].filter(function (w) { return editors[w]; });
    targets.forEach(function (w) { editors[w].server = []; });
    (problems || []).forEach(function (p) {
      var path = String(p.field || "").split("/").filter(Boolean), where = null;
      for (var n = path.length; n > 0 && !where; n--) {
        targets.some(function (w) {
          var range = editors[w].handle.locate(path.slice(0, n));
          if (range) where = { which: w, range: range };
          return !!range;
        });
      }
      if (where) editors[where.which].server.push({ from: where.range.from, to: where.range.to, message: p.message, code: p.code, severity: p.severity });
    });
    targets.forEach(function (w) { if (!editors[w].syntax.length) self.mark(editors[w]); });
  };

  FormEditor.prototype.schedulePreview = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.preview(); }, 400);
  };

  FormEditor.prototype.request = function () {
    return { name: this.name, schema: this.schema, ui_schema: this.ui && Object.keys(this.ui).length ? this.ui : null };
  };

  FormEditor.prototype.preview = function () {
    var self = this;
    if (!this.name || !this.schema) return;
    var body = this.request();
    if (this.lastData) body.data = this.lastData;  // what was typed for 试填 stays in the redrawn preview
    post(this.studio, "/api/studio/form-preview", body).then(function (r) {
      self.showProblems(r.ok ? r.body.problems : r.body.problems || [{ message: r.body.message, code: r.body.code }]);
      if (r.ok) self.draw(r.body.html);
    }).catch(function (e) { self.showProblems([{ message: "预览失败：" + e.message, code: "NETWORK" }]); });
  };

  FormEditor.prototype.showProblems = function (problems) {
    var list = this.problems;
    list.innerHTML = "";
    this.markServer(problems);
    (problems || []).forEach(function (p) {
      list.appendChild(el("li", { "class": "sf-problem" }, [(p.field ? p.field + "：" : "") + p.message + " ", el("code", { text: p.code || "" })]));
    });
  };

  FormEditor.prototype.draw = function (html) {
    this.frame.srcdoc = '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">' +
      '<link rel="stylesheet" href="/static/forms.css"><script src="/static/forms.js"><\/script>' +
      '<style>body{margin:0;padding:.8rem;font-family:sans-serif}</style></head><body>' + html + "</body></html>";
  };

  FormEditor.prototype.hookFrame = function () {
    var self = this, doc = this.frame.contentDocument;
    if (!doc) return;
    doc.addEventListener("submit", function (e) { e.preventDefault(); self.tryFill(); });
  };

  FormEditor.prototype.tryFill = function () {
    var self = this, doc = this.frame.contentDocument, form = doc && doc.querySelector("form");
    if (!this.schema) return;
    var body = this.request(), pairs = [];
    if (form) new FormData(form).forEach(function (v, k) { if (typeof v === "string") pairs.push([k, v]); });
    body.posted = pairs;
    this.tryOut.textContent = "正在校验…";
    post(this.studio, "/api/studio/form-try", body).then(function (r) {
      var out = self.tryOut;
      out.innerHTML = "";
      if (!r.ok) { out.appendChild(el("p", { "class": "sf-bad", text: r.body.message || "试填失败" })); return; }
      self.showProblems(r.body.problems);
      self.draw(r.body.html);
      if (r.body.data) self.lastData = r.body.data;
      if (r.body.valid) {
        out.appendChild(el("p", { "class": "sf-ok", text: "校验通过，提交的数据：" }));
        out.appendChild(el("pre", { text: JSON.stringify(r.body.data, null, 2) }));
        return;
      }
      out.appendChild(el("p", { "class": "sf-bad", text: "有 " + r.body.errors.length + " 处不符合要求：" }));
      out.appendChild(el("ul", { "data-testid": "try-errors" }, r.body.errors.map(function (e) {
        return el("li", {}, [e.label + (e.path ? "（" + e.path + "）" : "") + "：" + e.message + " ", el("code", { text: e.code })]);
      })));
    });
  };

  FormEditor.prototype.save = function () {
    var self = this, name = this.name;
    if (!name) return Promise.resolve();
    if (this.codeError) { this.setStatus("代码有 JSON 格式错误，未保存：" + this.codeError.error, true); return Promise.resolve(); }
    var text = JSON.stringify(this.schema, null, 2) + "\n", uiText = JSON.stringify(this.ui, null, 2) + "\n";
    var saves = [this.studio.saveFile(name, text)];
    if (this.hadUi || Object.keys(this.ui || {}).length) saves.push(this.studio.saveFile(uiName(name), uiText));
    this.setStatus("正在保存…");
    return Promise.all(saves).then(function () {
      self.files()[name] = text;
      if (saves.length > 1) { self.files()[uiName(name)] = uiText; self.hadUi = true; }
      self.dirty = false; self.setStatus("已保存");
    }, function (e) { self.setStatus("保存失败：" + (e && e.message ? e.message : e), true); });
  };

  function mount() {
    var root = document.getElementById("studio-forms");
    if (!root || root.dataset.mounted) return;
    if (!window.jiuzhuStudio || !window.jiuzhuStudio.files) { setTimeout(mount, 100); return; }
    root.dataset.mounted = "1";
    window.jiuzhuFormEditor = new FormEditor(root, window.jiuzhuStudio);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount); else mount();
})();
