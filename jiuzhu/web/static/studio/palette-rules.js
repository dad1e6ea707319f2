// Palette rules for the studio's bpmn-js Modeler: what `jiuzhu deploy` refuses
// (engine/deploy/bpmn_checks.py, engine/deploy/support.py) is not offered in
// the palette or the replace menu, and a refused element that arrives anyway
// (imported, pasted) is marked at once with `lint-error` and a Chinese badge,
// before the server's lint answers. Exposed as window.jiuzhuStudioModules,
// which editor.js appends to the Modeler's additionalModules.
(function () {
  "use strict";

  // Kept equal to engine/deploy/support.py EVENT_DEFINITIONS (a test compares them):
  // the event definitions SpiffWorkflow reads on each kind of event.
  var ALLOWED_EVENT_DEFINITIONS = {
    "startEvent": ["message", "signal", "timer", "conditional"],
    "endEvent": ["message", "cancel", "error", "escalation", "terminate"],
    "intermediateCatchEvent": ["message", "signal", "timer", "conditional"],
    "intermediateThrowEvent": ["message", "signal", "escalation"],
    "boundaryEvent": ["cancel", "error", "escalation", "message", "signal", "timer", "conditional"]
  };
  // Element types deploy refuses outright, with what it says.
  var REFUSED_TYPES = {
    "bpmn:ComplexGateway": "不支持复杂网关（complexGateway）",
    "bpmn:DataStoreReference": "不支持数据存储（dataStoreReference）：本平台没有注册任何数据存储实现"
  };
  var DEFINITION_MESSAGES = {
    "link": "不支持链接事件（SpiffWorkflow 会静默忽略它，流程将走错路径）",
    "compensate": "不支持补偿（补偿事件与补偿处理活动）"
  };
  var EVENT_NAMES = {
    "startEvent": "开始事件", "endEvent": "结束事件", "intermediateCatchEvent": "中间捕获事件",
    "intermediateThrowEvent": "中间抛出事件", "boundaryEvent": "边界事件"
  };
  // bpmn-js palette and replace-menu entries that would create one of the above.
  var REFUSED_PALETTE = ["create.data-store"];
  var REFUSED_REPLACE = [
    "replace-with-complex-gateway",
    "replace-with-data-store-reference",
    "replace-with-link-intermediate-catch",
    "replace-with-link-intermediate-throw",
    "replace-with-compensation-intermediate-throw",
    "replace-with-compensation-end",
    "replace-with-compensation-start",
    "replace-with-compensation-boundary",
    "replace-with-signal-end",
    "replace-with-error-start",
    "replace-with-escalation-start",
    "replace-with-non-interrupting-escalation-start"
  ];
  var MARK = "jiuzhu-refused";

  function localName(type) {
    var name = type.split(":")[1] || type;
    return name.charAt(0).toLowerCase() + name.slice(1);
  }

  // Why deploy refuses this business object, in Chinese, or null.
  function refusal(bo) {
    if (!bo || !bo.$type) return null;
    if (REFUSED_TYPES[bo.$type]) return REFUSED_TYPES[bo.$type];
    if (bo.isForCompensation) return DEFINITION_MESSAGES.compensate;
    var kind = localName(bo.$type);
    var allowed = ALLOWED_EVENT_DEFINITIONS[kind];
    var definitions = bo.eventDefinitions || [];
    for (var i = 0; allowed && i < definitions.length; i++) {
      var def = localName(definitions[i].$type).replace(/EventDefinition$/, "");
      if (DEFINITION_MESSAGES[def]) return DEFINITION_MESSAGES[def];
      if (allowed.indexOf(def) < 0) {
        return EVENT_NAMES[kind] + "不支持 bpmn:" + def + "EventDefinition（SpiffWorkflow 会把它当作普通事件）";
      }
    }
    var parent = bo.$parent;
    if (kind === "startEvent" && parent && parent.triggeredByEvent && bo.isInterrupting !== false) {
      return "不支持中断型事件子流程：主流程不会被中断；请设为非中断";
    }
    return null;
  }

  function drop(entries, ids) {
    ids.forEach(function (id) { delete entries[id]; });
    return entries;
  }

  function PaletteRules(palette, popupMenu, eventBus, elementRegistry, canvas, overlays) {
    palette.registerProvider(100, {
      getPaletteEntries: function () {
        return function (entries) { return drop(entries, REFUSED_PALETTE); };
      }
    });
    popupMenu.registerProvider("bpmn-replace", 100, {
      getPopupMenuEntries: function () {
        return function (entries) { return drop(entries, REFUSED_REPLACE); };
      }
    });

    var badges = {};
    function mark() {
      elementRegistry.forEach(function (element) {
        if (element.type === "label") return;
        var why = refusal(element.businessObject);
        if (why && !badges[element.id]) {
          canvas.addMarker(element.id, "lint-error");
          canvas.addMarker(element.id, MARK);
          var badge = document.createElement("div");
          badge.className = "jiuzhu-refused-badge";
          badge.textContent = "不支持";
          badge.title = why;
          badge.setAttribute("data-message", why);
          badges[element.id] = overlays.add(element.id, "jiuzhu-refused", { position: { top: -14, left: 0 }, html: badge });
        } else if (!why && badges[element.id]) {
          overlays.remove(badges[element.id]);
          canvas.removeMarker(element.id, MARK);
          delete badges[element.id];
        }
      });
      Object.keys(badges).forEach(function (id) {
        if (!elementRegistry.get(id)) delete badges[id];
      });
    }
    eventBus.on("import.done", mark);
    eventBus.on("commandStack.changed", mark);
    this.refusal = refusal;
    this.mark = mark;
  }
  PaletteRules.$inject = ["palette", "popupMenu", "eventBus", "elementRegistry", "canvas", "overlays"];

  var module = { __init__: ["jiuzhuPaletteRules"], jiuzhuPaletteRules: ["type", PaletteRules] };
  window.jiuzhuStudioModules = (window.jiuzhuStudioModules || []).concat([module]);
  window.jiuzhuStudioRefusal = refusal;
})();
