// The studio's properties panel (mounted in #studio-properties): exactly the
// extensions the engine executes, as choices from GET /api/studio/catalog and
// the draft's own files, with code checked as it is typed by
// POST /api/studio/check-script (the sandbox compile deploy uses). Works off
// window.jiuzhuStudio.modeler (bpmn-js Modeler with the spiffworkflow moddle
// descriptor). Plain ES2019.
(function () {
  "use strict";

  var SPIFF = "spiffworkflow:";
  var TYPE_NAMES = {
    "bpmn:Process": "流程", "bpmn:Collaboration": "协作", "bpmn:Participant": "池", "bpmn:Lane": "泳道",
    "bpmn:UserTask": "用户任务", "bpmn:ScriptTask": "脚本任务", "bpmn:ServiceTask": "服务任务",
    "bpmn:BusinessRuleTask": "业务规则任务", "bpmn:ManualTask": "手工任务", "bpmn:Task": "任务",
    "bpmn:SendTask": "发送任务", "bpmn:ReceiveTask": "接收任务", "bpmn:CallActivity": "调用活动",
    "bpmn:SubProcess": "子流程", "bpmn:Transaction": "事务子流程", "bpmn:AdHocSubProcess": "自由子流程",
    "bpmn:StartEvent": "开始事件", "bpmn:EndEvent": "结束事件", "bpmn:BoundaryEvent": "边界事件",
    "bpmn:IntermediateCatchEvent": "中间捕获事件", "bpmn:IntermediateThrowEvent": "中间抛出事件",
    "bpmn:ExclusiveGateway": "排他网关", "bpmn:ParallelGateway": "并行网关", "bpmn:InclusiveGateway": "包容网关",
    "bpmn:EventBasedGateway": "事件网关", "bpmn:SequenceFlow": "顺序流", "bpmn:TextAnnotation": "注释",
    "bpmn:DataObjectReference": "数据对象", "bpmn:Group": "分组", "bpmn:MessageFlow": "消息流"
  };
  var TIMER_KINDS = [
    ["timeDate", "日期时间（timeDate）：到某一时刻触发，如 sla_due(\"publicity\")"],
    ["timeDuration", "时长（timeDuration）：等待一段时间，如 \"P2D\""],
    ["timeCycle", "循环周期（timeCycle）：如 \"R3/PT10M\""]
  ];
  var PARAMETER_TYPES = { list: "列表", dict: "对象", str: "文本", int: "整数", float: "数值", bool: "是/否", any: "任意" };
  var ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
  var ROLE_CODE = /^[a-z][a-z0-9_]*$/;

  var state = { catalog: null, catalogError: null, element: null, root: null, mine: false };

  // -- small helpers ------------------------------------------------------------------

  function studio() { return window.jiuzhuStudio; }
  function modeler() { return studio().modeler; }
  function service(name) { return modeler().get(name); }
  function is(bo, type) { return bo && typeof bo.$instanceOf === "function" && bo.$instanceOf(type); }

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else if (key === "value") node.value = value;
      else if (key === "checked" || key === "selected" || key === "disabled") node[key] = !!value;
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function csrf() {
    if (studio() && studio().csrf) return studio().csrf;
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (e) {
      return "";
    }
  }

  function api(method, url, body) {
    var options = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = csrf();
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.message || ("请求失败：" + response.status));
        return data;
      });
    });
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function draftFiles() { return (studio() && studio().files) || {}; }

  // -- the model: extension elements ------------------------------------------------------

  // Our own changes must not re-render the panel under the designer's cursor.
  function change(fn) {
    state.mine = true;
    try { fn(); } finally { state.mine = false; }
  }

  function extensions(bo) {
    return (bo.extensionElements && bo.extensionElements.get("values")) || [];
  }

  function findExtension(bo, type) {
    return extensions(bo).filter(function (value) { return is(value, type); })[0] || null;
  }

  function ensureExtensionElements(element) {
    var bo = element.businessObject;
    if (!bo.extensionElements) {
      var created = service("moddle").create("bpmn:ExtensionElements", { values: [] });
      created.$parent = bo;
      service("modeling").updateModdleProperties(element, bo, { extensionElements: created });
    }
    return bo.extensionElements;
  }

  function setExtension(element, type, created) {
    var bo = element.businessObject;
    var old = findExtension(bo, type);
    var holder = ensureExtensionElements(element);
    var values = holder.get("values").filter(function (value) { return value !== old; });
    if (created) {
      created.$parent = holder;
      values.push(created);
    }
    service("modeling").updateModdleProperties(element, holder, { values: values });
    if (!values.length) service("modeling").updateModdleProperties(element, bo, { extensionElements: undefined });
  }

  function bodyExtension(bo, type) {
    var found = findExtension(bo, type);
    return found ? (found.value || "") : "";
  }

  function setBodyExtension(element, type, text) {
    var found = findExtension(element.businessObject, type);
    if (found && text) {
      service("modeling").updateModdleProperties(element, found, { value: text });
    } else if (text || found) {
      setExtension(element, type, text ? service("moddle").create(type, { value: text }) : null);
    }
  }

  function property(bo, name) {
    var holder = findExtension(bo, SPIFF + "Properties");
    var found = holder && holder.get("properties").filter(function (p) { return p.name === name; })[0];
    return found ? (found.value || "") : "";
  }

  function hasProperty(bo, name) {
    var holder = findExtension(bo, SPIFF + "Properties");
    return !!(holder && holder.get("properties").some(function (p) { return p.name === name; }));
  }

  // value === null removes the property; "" keeps it empty (starterRoles: deliberately nobody).
  function setProperty(element, name, value) {
    var modeling = service("modeling");
    var moddle = service("moddle");
    var bo = element.businessObject;
    var holder = findExtension(bo, SPIFF + "Properties");
    var found = holder && holder.get("properties").filter(function (p) { return p.name === name; })[0];
    if (value === null) {
      if (!found) return;
      var rest = holder.get("properties").filter(function (p) { return p !== found; });
      if (rest.length) modeling.updateModdleProperties(element, holder, { properties: rest });
      else setExtension(element, SPIFF + "Properties", null);
      return;
    }
    if (found) {
      modeling.updateModdleProperties(element, found, { value: value });
      return;
    }
    var created = moddle.create(SPIFF + "Property", { name: name, value: value });
    if (!holder) {
      holder = moddle.create(SPIFF + "Properties", { properties: [created] });
      created.$parent = holder;
      setExtension(element, SPIFF + "Properties", holder);
      return;
    }
    created.$parent = holder;
    modeling.updateModdleProperties(element, holder, { properties: holder.get("properties").concat([created]) });
  }

  function processOf(bo) {
    var node = bo;
    while (node) {
      if (is(node, "bpmn:Process")) return node;
      if (is(node, "bpmn:Participant")) return node.processRef;
      node = node.$parent;
    }
    return null;
  }

  function processIdOf(bo) {
    var process = processOf(bo);
    return (process && process.id) || (studio() && studio().processId) || "";
  }

  // -- choices: the catalog plus the draft's own files ------------------------------------

  function formChoices() {
    var seen = {};
    var list = [];
    Object.keys(draftFiles()).sort().forEach(function (path) {
      var name = path.split("/").pop();
      if (!/\.json$/.test(name) || /\.(sla|decisions)\.json$/.test(name) || seen[name]) return;
      seen[name] = true;
      list.push({ name: name, kind: /uischema\.json$/.test(name) ? "ui" : "schema", source: "草稿" });
    });
    ((state.catalog && state.catalog.forms) || []).forEach(function (form) {
      if (seen[form.name]) return;
      seen[form.name] = true;
      list.push({ name: form.name, kind: form.kind, source: form.folder, title: form.title });
    });
    return list;
  }

  // Policies governing this process: the draft's *.sla.json replace the ones in force of the same id.
  function governingPolicies(processId) {
    var byId = {};
    ((state.catalog && state.catalog.policies) || []).forEach(function (p) { byId[p.id] = p; });
    var files = draftFiles();
    Object.keys(files).forEach(function (path) {
      if (!/\.sla\.json$/.test(path)) return;
      try {
        var data = JSON.parse(files[path]);
        var stages = Object.keys(data.stages || {}).map(function (key) {
          var s = data.stages[key] || {};
          return { key: key, name: s.name || key, limit: s.limit, unit_label: s.unit === "natural_days" ? "自然日" : "工作日" };
        });
        byId[data.id || path] = { id: data.id || path, title: (data.title || path) + "（草稿）", processes: data.processes || [], stages: stages };
      } catch (e) { /* the policy editor reports a broken file */ }
    });
    return Object.keys(byId).map(function (id) { return byId[id]; }).filter(function (p) {
      return (p.processes || []).indexOf(processId) >= 0;
    });
  }

  function stageChoices(processId) {
    var policies = governingPolicies(processId);
    var stages = {};
    var order = [];
    policies.forEach(function (policy) {
      policy.stages.forEach(function (stage) {
        if (!stages[stage.key]) {
          stages[stage.key] = { key: stage.key, name: stage.name, limit: stage.limit, unit_label: stage.unit_label, in: [] };
          order.push(stage.key);
        }
        stages[stage.key].in.push(policy.id);
      });
    });
    return order.map(function (key) {
      var stage = stages[key];
      stage.missing = policies.filter(function (p) { return stage.in.indexOf(p.id) < 0; }).map(function (p) { return p.id; });
      return stage;
    });
  }

  function decisionChoices() {
    var seen = {};
    var list = [];
    var files = draftFiles();
    Object.keys(files).sort().forEach(function (path) {
      if (!/\.dmn$/.test(path)) return;
      var doc = new DOMParser().parseFromString(files[path], "application/xml");
      var decision = doc.getElementsByTagNameNS("*", "decision")[0];
      if (!decision || seen[decision.getAttribute("id")]) return;
      seen[decision.getAttribute("id")] = true;
      list.push({ id: decision.getAttribute("id"), name: decision.getAttribute("name") || "", file: path, draft: true });
    });
    ((state.catalog && state.catalog.decisions) || []).forEach(function (d) {
      if (seen[d.id]) return;
      seen[d.id] = true;
      list.push({ id: d.id, name: d.name, file: d.file, draft: false });
    });
    return list;
  }

  // -- widgets -------------------------------------------------------------------------

  function field(label, control, hint, testid) {
    return h("div", { "class": "jz-field", "data-testid": testid }, [
      h("label", {}, [h("span", { "class": "jz-label", text: label }), control]),
      hint ? h("div", { "class": "jz-hint", text: hint }) : null
    ]);
  }

  function select(options, value, onchange, name) {
    var control = h("select", { name: name, onchange: function () { onchange(control.value); } },
      options.map(function (o) { return h("option", { value: o[0], selected: o[0] === value, text: o[1] }); }));
    if (value && !options.some(function (o) { return o[0] === value; })) {
      control.insertBefore(h("option", { value: value, selected: true, text: value + "（不在可选列表中）" }), control.firstChild);
    }
    return control;
  }

  function textInput(value, onchange, name, placeholder) {
    var control = h("input", { type: "text", name: name, value: value, placeholder: placeholder });
    control.addEventListener("change", function () { onchange(control.value); });
    return control;
  }

  var CODE_LABELS = { script: "脚本", condition: "条件表达式", instructions: "办理说明模板", timer: "计时器表达式",
    "pre-script": "前置脚本", "post-script": "后置脚本" };

  // The text control of a code box: CodeMirror with Python highlighting (the studio page loads
  // jiuzhu/web/studio_bundle/code-editor.js), else a textarea. Both answer .value and .element.
  function codeArea(language, value, name, rows, typed, left) {
    if (window.jiuzhuCode) {
      var holder = h("div", { "class": "jz-code jz-cm", "data-name": name });
      var editor = window.jiuzhuCode.editor(holder, { language: language, doc: value, label: CODE_LABELS[name] || name,
        lines: rows, maxHeight: "24em", onChange: typed });
      holder.addEventListener("focusout", function (event) { if (!holder.contains(event.relatedTarget)) left(); });
      editor.element = holder;
      return editor;
    }
    var area = h("textarea", { name: name, rows: String(rows || 6), spellcheck: "false", "class": "jz-code" });
    area.value = value;
    area.addEventListener("input", typed);
    area.addEventListener("change", left);
    area.element = area;
    area.setProblems = function () {};
    return area;
  }

  // A code box: updates the model as typed (debounced) and shows deploy's verdict under it and,
  // located by line, in the text itself.
  function codeBox(kind, value, onchange, name, rows) {
    var kindOf = typeof kind === "function" ? kind : function () { return kind; };
    var verdict = h("ul", { "class": "jz-problems", "data-testid": "problems-" + name, "aria-live": "polite" });
    var area = codeArea(kindOf() === "template" ? null : "python", value, name, rows,
      function () { save(); check(); }, function () { onchange(area.value); });
    var check = debounce(function () {
      var text = area.value;
      if (!text.trim() && kindOf() !== "script") { show([]); return; }
      verdict.setAttribute("data-state", "checking");
      api("POST", "/api/studio/check-script", { kind: kindOf(), text: text }).then(function (answer) {
        if (area.value === text) show(answer.problems);
      }).catch(function (error) { show([{ message: "无法检查：" + error.message, code: "CHECK_FAILED" }]); });
    }, 350);
    var save = debounce(function () { onchange(area.value); }, 250);
    function show(problems) {
      verdict.innerHTML = "";
      verdict.setAttribute("data-state", problems.length ? "error" : "ok");
      area.element.classList.toggle("jz-invalid", problems.length > 0);
      area.setProblems(problems.filter(function (p) { return p.line; }));
      problems.forEach(function (p) {
        verdict.appendChild(h("li", {}, [
          p.line ? h("span", { "class": "jz-line", text: "第 " + p.line + " 行" }) : null,
          h("span", { "class": "jz-message", text: p.message }),
          h("code", { text: p.code })
        ]));
      });
    }
    if (value) check();
    var box = h("div", { "class": "jz-codebox" }, [area.element, verdict]);
    box.recheck = check;
    box.area = area;
    return box;
  }

  // -- sections per element type ------------------------------------------------------------

  function basics(element) {
    var bo = element.businessObject;
    var idError = h("div", { "class": "jz-error", "data-testid": "id-error" });
    var id = textInput(bo.id, function (value) {
      idError.textContent = "";
      if (value === bo.id) return;
      if (!ID_PATTERN.test(value)) { idError.textContent = "标识须以字母或下划线开头，只含字母、数字、下划线、点和连字符"; return; }
      if (service("elementRegistry").get(value)) { idError.textContent = "标识 " + value + " 已被其他元素使用"; return; }
      change(function () { service("modeling").updateProperties(element, { id: value }); });
    }, "id");
    var nodes = [field("标识（id）", id, null, "field-id"), idError];
    if (!is(bo, "bpmn:Collaboration")) {
      nodes.unshift(field("名称", textInput(bo.name || "", function (value) {
        change(function () { service("modeling").updateProperties(element, { name: value || undefined }); });
      }, "name"), null, "field-name"));
    }
    return nodes;
  }

  function laneSection(element) {
    var bo = element.businessObject;
    var lanes = (state.catalog && state.catalog.lanes) || [];
    var current = lanes.filter(function (l) { return l.name === bo.name; })[0];
    var options = [["", "（请选择角色）"]].concat(lanes.map(function (l) { return [l.name, l.name + "（" + l.role + "）"]; }));
    var hint = current
      ? "此泳道的任务由角色 " + current.role + " 办理（泳道名称即角色名称）"
      : "泳道名称须是角色目录中的名称，否则其中的任务无人可办";
    return [field("办理角色", select(options, bo.name || "", function (value) {
      change(function () { service("modeling").updateProperties(element, { name: value || undefined }); });
      render();
    }, "lane-role"), hint, "field-lane-role")];
  }

  function formSection(element) {
    var bo = element.businessObject;
    var forms = formChoices();
    var schemas = forms.filter(function (f) { return f.kind === "schema"; });
    var uis = forms.filter(function (f) { return f.kind === "ui"; });
    var label = function (f) { return f.name + (f.title ? "（" + f.title + "）" : "") + " · " + (f.source || ""); };
    var schema = property(bo, "formJsonSchemaFilename");
    var schemaSelect = select([["", "（无表单）"]].concat(schemas.map(function (f) { return [f.name, label(f)]; })), schema,
      function (value) { change(function () { setProperty(element, "formJsonSchemaFilename", value || null); }); render(); }, "form");
    var uiSelect = select([["", "（无界面配置）"]].concat(uis.map(function (f) { return [f.name, label(f)]; })),
      property(bo, "formUiSchemaFilename"),
      function (value) { change(function () { setProperty(element, "formUiSchemaFilename", value || null); }); }, "form-ui");
    var open = h("button", {
      type: "button", "class": "jz-link", "data-testid": "open-form", disabled: !schema, text: "编辑表单",
      onclick: function () { studio().emit("open-form", property(element.businessObject, "formJsonSchemaFilename")); }
    });
    return [
      field("表单（JSON Schema）", h("div", { "class": "jz-row" }, [schemaSelect, open]), null, "field-form"),
      field("界面配置（UI Schema）", uiSelect, null, "field-form-ui")
    ];
  }

  function stageSection(element) {
    var bo = element.businessObject;
    var pid = processIdOf(bo);
    var stages = stageChoices(pid);
    var value = property(bo, "slaStage");
    var options = [["", "（不单独计时）"]].concat(stages.map(function (s) {
      var label = s.name + "（" + s.key + "，" + s.limit + " 个" + s.unit_label + "）";
      return [s.key, s.missing.length ? label + " — 缺于 " + s.missing.join("、") : label];
    }));
    var hint = governingPolicies(pid).length
      ? "环节时限来自适用于流程 " + pid + " 的时限政策：" + governingPolicies(pid).map(function (p) { return p.title || p.id; }).join("、")
      : "没有时限政策适用于流程 " + pid + "；请先在「时限」中新建";
    return [field("环节时限（slaStage）", select(options, value, function (chosen) {
      change(function () { setProperty(element, "slaStage", chosen || null); });
    }, "sla-stage"), hint, "field-sla-stage")];
  }

  function instructionsSection(element) {
    var bo = element.businessObject;
    return [field("办理说明（模板，可用 {{ 变量 }}）", codeBox("template", bodyExtension(bo, SPIFF + "InstructionsForEndUser"), function (text) {
      change(function () { setBodyExtension(element, SPIFF + "InstructionsForEndUser", text); });
    }, "instructions", 4), null, "field-instructions")];
  }

  function scriptsSection(element) {
    var bo = element.businessObject;
    return [["PreScript", "前置脚本（进入任务前运行）", "pre-script"], ["PostScript", "后置脚本（完成任务后运行）", "post-script"]].map(function (s) {
      var box = codeBox("script", bodyExtension(bo, SPIFF + s[0]), function (text) {
        change(function () { setBodyExtension(element, SPIFF + s[0], text.trim() ? text : ""); });
      }, s[2], 3);
      return h("details", { "class": "jz-more", open: bodyExtension(bo, SPIFF + s[0]) ? true : null }, [
        h("summary", { text: s[1] }), box
      ]);
    });
  }

  function starterSection(element) {
    var bo = element.businessObject;
    var declared = property(bo, "starterRoles").split(/[\s,，]+/).filter(Boolean);
    var roles = (state.catalog && state.catalog.roles) || [];
    var boxes = roles.map(function (role) {
      var box = h("input", { type: "checkbox", value: role.code, name: "starter-role", checked: declared.indexOf(role.code) >= 0 });
      box.addEventListener("change", function () {
        var chosen = Array.prototype.slice.call(list.querySelectorAll("input:checked")).map(function (b) { return b.value; });
        change(function () { setProperty(element, "starterRoles", chosen.join(" ")); });
      });
      return h("label", { "class": "jz-check" }, [box, role.name + "（" + role.code + "）"]);
    });
    var unknown = declared.filter(function (code) { return !roles.some(function (r) { return r.code === code; }) || !ROLE_CODE.test(code); });
    var list = h("div", { "class": "jz-checks", "data-testid": "starter-roles" }, boxes);
    var hint = hasProperty(bo, "starterRoles")
      ? (declared.length ? "这些角色可以在「新建申请」中发起此流程" : "已声明为空：没有人可以发起（只能由系统或上级流程启动）")
      : "未声明：有开始表单时部署会给出警告，且没有人可以发起";
    return [field("发起角色（starterRoles）", list, hint + (unknown.length ? "；未知角色：" + unknown.join("、") : ""), "field-starters")];
  }

  function timerSection(element, definition) {
    var kind = TIMER_KINDS.filter(function (k) { return definition[k[0]]; }).map(function (k) { return k[0]; })[0] || "timeDate";
    var expression = definition[kind];
    var text = (expression && expression.body) || "";
    var kindSelect = select(TIMER_KINDS, kind, function () { write(box.area.value); box.recheck(); }, "timer-kind");
    function write(value) {
      var chosen = kindSelect.value;
      var props = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
      if (value.trim()) props[chosen] = service("bpmnFactory").create("bpmn:FormalExpression", { body: value });
      change(function () { service("modeling").updateModdleProperties(element, definition, props); });
    }
    var box = codeBox(function () { return kindSelect.value; }, text, write, "timer", 2);
    var stage = property(element.businessObject, "slaStage");
    var helpers = ((state.catalog && state.catalog.helpers) || []).filter(function (x) {
      return ["sla_due", "sla_warning", "add_working_days", "add_natural_days"].indexOf(x.name) >= 0;
    }).map(function (helper) {
      var example = helper.example.replace("{stage}", stage || "环节");
      return h("button", {
        type: "button", "class": "jz-chip", title: helper.signature + "：" + helper.description, "data-helper": helper.name,
        text: "插入 " + helper.name,
        onclick: function () {
          if (kindSelect.value !== "timeDate") kindSelect.value = "timeDate";
          box.area.value = example;
          write(example);
          box.recheck();
        }
      });
    });
    return [
      field("计时器类型", kindSelect, null, "field-timer-kind"),
      field("计时器表达式", box, "ISO-8601 文本须加引号（\"P2D\"）；工作日时限请用时间函数", "field-timer"),
      h("div", { "class": "jz-chips" }, helpers)
    ];
  }

  function connectorSection(element) {
    var bo = element.businessObject;
    var connectors = (state.catalog && state.catalog.connectors) || [];
    var operator = findExtension(bo, SPIFF + "ServiceTaskOperator");
    var name = operator ? operator.id || "" : "";
    var connector = connectors.filter(function (c) { return c.name === name; })[0];
    var current = {};
    var list = operator && operator.parameterList ? operator.parameterList.get("parameters") : [];
    list.forEach(function (p) { current[p.id] = p.value || ""; });

    function rebuild(chosen, resultVariable, values) {
      var moddle = service("moddle");
      if (!chosen) { change(function () { setExtension(element, SPIFF + "ServiceTaskOperator", null); }); return; }
      var target = connectors.filter(function (c) { return c.name === chosen; })[0];
      var params = ((target && target.parameters) || []).filter(function (p) { return (values[p.name] || "").trim(); }).map(function (p) {
        return moddle.create(SPIFF + "Parameter", { id: p.name, type: p.type, value: values[p.name] });
      });
      var holder = moddle.create(SPIFF + "Parameters", { parameters: params });
      params.forEach(function (p) { p.$parent = holder; });
      var created = moddle.create(SPIFF + "ServiceTaskOperator", { id: chosen, resultVariable: resultVariable || undefined, parameterList: holder });
      holder.$parent = created;
      change(function () { setExtension(element, SPIFF + "ServiceTaskOperator", created); });
    }
    var resultInput = textInput(operator ? operator.resultVariable || "" : "", function (value) {
      rebuild(name, value, current);
    }, "result-variable", "如 hedui_report");
    var nodes = [
      field("连接器", select([["", "（请选择连接器）"]].concat(connectors.map(function (c) { return [c.name, c.title + "（" + c.name + "）"]; })), name,
        function (value) { rebuild(value, resultInput.value || (value ? value + "_result" : ""), current); render(); }, "connector"),
        connector ? null : "服务任务须调用一个已注册的连接器", "field-connector"),
      field("结果变量（resultVariable）", resultInput, "连接器的返回值存入此变量", "field-result-variable")
    ];
    ((connector && connector.parameters) || []).forEach(function (p) {
      var input = textInput(current[p.name] || "", function (value) {
        current[p.name] = value;
        rebuild(name, resultInput.value, current);
      }, "param-" + p.name, "Python 表达式，如 " + (p.type === "str" ? "\"文本\"" : "变量名"));
      nodes.push(field(p.title + "（" + p.name + "，" + (PARAMETER_TYPES[p.type] || p.type) + (p.required ? "，必填" : "，可选") + "）", input, null, "field-param-" + p.name));
    });
    return nodes;
  }

  function decisionSection(element) {
    var bo = element.businessObject;
    var value = bodyExtension(bo, SPIFF + "CalledDecisionId");
    var options = [["", "（请选择决策表）"]].concat(decisionChoices().map(function (d) {
      return [d.id, (d.name || d.id) + "（" + d.id + "）" + (d.draft ? "" : " · 不在本草稿中：" + d.file)];
    }));
    return [field("决策表（calledDecisionId）", select(options, value, function (chosen) {
      change(function () { setBodyExtension(element, SPIFF + "CalledDecisionId", chosen); });
    }, "decision"), "所选决策须在本流程的文件中（DMN）", "field-decision")];
  }

  function scriptSection(element) {
    var bo = element.businessObject;
    return [field("脚本（Python，在沙箱中运行）", codeBox("script", bo.script || "", function (text) {
      change(function () { service("modeling").updateProperties(element, { script: text, scriptFormat: "python" }); });
    }, "script", 12), null, "field-script")];
  }

  function conditionSection(element) {
    var bo = element.businessObject;
    var source = bo.sourceRef;
    var isDefault = source && source.default === bo;
    var defaultBox = h("input", { type: "checkbox", name: "default-flow", checked: isDefault });
    defaultBox.addEventListener("change", function () {
      change(function () {
        var gateway = service("elementRegistry").get(source.id);
        if (defaultBox.checked) {
          service("modeling").updateProperties(element, { conditionExpression: undefined });
          service("modeling").updateProperties(gateway, { "default": bo });
        } else {
          service("modeling").updateProperties(gateway, { "default": undefined });
        }
      });
      render();
    });
    var nodes = [field("默认顺序流", h("label", { "class": "jz-check" }, [defaultBox, "其他条件都不满足时走这条"]), null, "field-default-flow")];
    if (!isDefault) {
      var expression = bo.conditionExpression;
      nodes.push(field("条件（Python 表达式）", codeBox("condition", (expression && expression.body) || "", function (text) {
        change(function () {
          var value = text.trim() ? service("bpmnFactory").create("bpmn:FormalExpression", { body: text }) : undefined;
          service("modeling").updateProperties(element, { conditionExpression: value });
        });
      }, "condition", 3), "条件只读流程数据，如 decision == \"同意\"", "field-condition"));
    }
    return nodes;
  }

  function sections(element) {
    var bo = element.businessObject;
    var nodes = basics(element);
    var timer = (bo.eventDefinitions || []).filter(function (d) { return is(d, "bpmn:TimerEventDefinition"); })[0];
    var noneStart = is(bo, "bpmn:StartEvent") && !(bo.eventDefinitions || []).length;
    if (is(bo, "bpmn:Lane")) nodes = nodes.concat(laneSection(element));
    if (is(bo, "bpmn:UserTask")) {
      nodes = nodes.concat(formSection(element), stageSection(element), instructionsSection(element));
    }
    if (noneStart && bo.$parent && !bo.$parent.triggeredByEvent) {
      nodes = nodes.concat(starterSection(element), formSection(element));
    }
    if (timer) nodes = nodes.concat(timerSection(element, timer));
    if (timer && is(bo, "bpmn:IntermediateCatchEvent")) nodes = nodes.concat(stageSection(element));
    if (is(bo, "bpmn:ServiceTask")) nodes = nodes.concat(connectorSection(element));
    if (is(bo, "bpmn:BusinessRuleTask")) nodes = nodes.concat(decisionSection(element));
    if (is(bo, "bpmn:ScriptTask")) nodes = nodes.concat(scriptSection(element));
    if (is(bo, "bpmn:SequenceFlow") && bo.sourceRef &&
        (is(bo.sourceRef, "bpmn:ExclusiveGateway") || is(bo.sourceRef, "bpmn:InclusiveGateway"))) {
      nodes = nodes.concat(conditionSection(element));
    }
    if (is(bo, "bpmn:Activity") && !is(bo, "bpmn:ScriptTask")) nodes = nodes.concat(scriptsSection(element));
    var refused = window.jiuzhuStudioRefusal && window.jiuzhuStudioRefusal(bo);
    if (refused) nodes.unshift(h("div", { "class": "jz-refused", "data-testid": "refused", text: refused }));
    return nodes;
  }

  // -- mounting -----------------------------------------------------------------------

  function render() {
    var root = state.root;
    if (!root) return;
    var element = state.element;
    if (element && !service("elementRegistry").get(element.id)) element = state.element = null;
    if (!element) element = service("canvas").getRootElement();
    var bo = element && element.businessObject;
    root.innerHTML = "";
    if (!bo) {
      root.appendChild(h("div", { "class": "jz-hint", text: "尚未打开流程图" }));
      return;
    }
    var title = TYPE_NAMES[bo.$type] || bo.$type.replace("bpmn:", "");
    root.appendChild(h("div", { "class": "jz-panel-head" }, [
      h("h3", { text: title }), h("code", { "data-testid": "selected-id", text: bo.id })
    ]));
    if (state.catalogError) root.appendChild(h("div", { "class": "jz-error", text: "无法读取可选项：" + state.catalogError }));
    else if (!state.catalog) root.appendChild(h("div", { "class": "jz-hint", text: "正在读取可选项…" }));
    var body = h("div", { "class": "jz-panel-body" }, sections(element));
    root.appendChild(body);
    root.setAttribute("data-element", bo.id);
  }

  function mount() {
    var root = document.getElementById("studio-properties");
    if (!root || !studio() || !studio().modeler) return false;
    state.root = root;
    root.classList.add("jz-properties");
    var bus = service("eventBus");
    bus.on("selection.changed", function (event) {
      var chosen = event.newSelection || [];
      state.element = chosen.length === 1 ? chosen[0] : null;
      render();
    });
    bus.on("elements.changed", function (event) {
      if (state.mine) return;
      var shown = state.element || service("canvas").getRootElement();
      if (!shown) return;
      var touched = (event.elements || []).some(function (e) { return e === shown || e.id === shown.id; });
      if (touched && !root.contains(document.activeElement)) render();
    });
    bus.on("import.done", function () { state.element = null; render(); });
    if (typeof studio().on === "function") studio().on("files", render);
    api("GET", "/api/studio/catalog").then(function (catalog) {
      state.catalog = catalog;
      root.setAttribute("data-catalog", "ready");
      render();
    }).catch(function (error) {
      state.catalogError = error.message;
      render();
    });
    try { render(); } catch (e) { /* no diagram yet: import.done renders */ }
    return true;
  }

  function whenReady() {
    if (mount()) return;
    var tries = 0;
    var timer = setInterval(function () {
      tries += 1;
      if (mount() || tries > 600) clearInterval(timer);
    }, 50);
  }

  window.jiuzhuStudioProperties = { render: render, state: state };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", whenReady);
  else whenReady();
})();
