// bpmnlint's recommended rules for the studio, bundled by esbuild at install time (`make
// install`, through package-lock.json) into node_modules/.jiuzhu/. Each kept rule is imported
// here by name, which packs it into the bundle (what bpmnlint-loader's compiled config does
// under webpack). Rules that repeat a check deploy already makes, or that contradict how our
// models are written, are left out: the table with the reasons is in
// docs/designing-a-procedure.md. Findings are hints only (severity "warning"): whether a draft
// may be published is decided on the server by deploy's own checks.
import { Linter } from 'bpmnlint';
import StaticResolver from 'bpmnlint/lib/resolver/static-resolver';
import adHocSubProcess from 'bpmnlint/rules/ad-hoc-sub-process';
import conditionalFlows from 'bpmnlint/rules/conditional-flows';
import endEventRequired from 'bpmnlint/rules/end-event-required';
import eventBasedGateway from 'bpmnlint/rules/event-based-gateway';
import eventSubProcessTypedStartEvent from 'bpmnlint/rules/event-sub-process-typed-start-event';
import global from 'bpmnlint/rules/global';
import labelRequired from 'bpmnlint/rules/label-required';
import noDuplicateSequenceFlows from 'bpmnlint/rules/no-duplicate-sequence-flows';
import noGatewayJoinFork from 'bpmnlint/rules/no-gateway-join-fork';
import noImplicitEnd from 'bpmnlint/rules/no-implicit-end';
import noImplicitSplit from 'bpmnlint/rules/no-implicit-split';
import noOverlappingElements from 'bpmnlint/rules/no-overlapping-elements';
import singleBlankStartEvent from 'bpmnlint/rules/single-blank-start-event';
import singleEventDefinition from 'bpmnlint/rules/single-event-definition';
import subProcessBlankStartEvent from 'bpmnlint/rules/sub-process-blank-start-event';
import superfluousGateway from 'bpmnlint/rules/superfluous-gateway';
import superfluousTermination from 'bpmnlint/rules/superfluous-termination';

// rule → [factory, Chinese message by bpmnlint's English one ('' for any other)]
var RULES = {
  'ad-hoc-sub-process': [adHocSubProcess, {
    'A <Start Event> is not allowed in <Ad Hoc Sub Process>': '自由子流程（ad hoc）中不能有开始事件',
    'An <End Event> is not allowed in <Ad Hoc Sub Process>': '自由子流程（ad hoc）中不能有结束事件'
  }],
  'conditional-flows': [conditionalFlows, { '': '该顺序流缺少条件：同一出口的其他走向带条件，它须有条件或设为默认走向' }],
  'end-event-required': [endEventRequired, { '': '流程或子流程缺少结束事件' }],
  'event-based-gateway': [eventBasedGateway, {
    'A <Sequence Flow> outgoing from an <Event-based Gateway> must not be conditional': '事件网关的出口顺序流不能带条件',
    '': '事件网关至少要有 2 个出口顺序流'
  }],
  'event-sub-process-typed-start-event': [eventSubProcessTypedStartEvent, { '': '事件子流程的开始事件须有事件类型（计时器、消息等）' }],
  'global': [global, {
    'Element is missing name': '全局元素（消息、信号、错误等）缺少名称',
    'Element is unused': '全局元素（消息、信号、错误等）未被任何元素引用',
    'Element name is not unique': '全局元素（消息、信号、错误等）名称重复'
  }],
  'label-required': [labelRequired, { '': '该元素缺少名称（办理人和审计记录里看到的是名称）' }],
  'no-duplicate-sequence-flows': [noDuplicateSequenceFlows, {
    'SequenceFlow is a duplicate': '重复的顺序流：同样的起点、终点和条件已有一条',
    'Duplicate outgoing sequence flows': '该元素有重复的出口顺序流',
    'Duplicate incoming sequence flows': '该元素有重复的入口顺序流'
  }],
  'no-gateway-join-fork': [noGatewayJoinFork, { '': '该网关既汇合又分支：请拆成一个汇合网关和一个分支网关' }],
  'no-implicit-end': [noImplicitEnd, { '': '该元素没有出口顺序流，流程在此隐式结束：请连到结束事件' }],
  'no-implicit-split': [noImplicitSplit, { '': '该元素有多个无条件出口，会隐式并行分支：请改用网关或给走向加条件' }],
  'no-overlapping-elements': [noOverlappingElements, {
    'Element is outside of parent boundary': '该元素超出了所在子流程或泳池的边界',
    '': '该元素与其他元素重叠'
  }],
  'single-blank-start-event': [singleBlankStartEvent, { '': '流程或子流程有多个空白开始事件' }],
  'single-event-definition': [singleEventDefinition, { '': '该事件有多个事件定义' }],
  'sub-process-blank-start-event': [subProcessBlankStartEvent, { '': '子流程的开始事件须为空白开始事件' }],
  'superfluous-gateway': [superfluousGateway, { '': '多余的网关：只有一个入口和一个出口，可以删去' }],
  'superfluous-termination': [superfluousTermination, { '': '多余的终止结束事件：此处用普通结束事件效果相同' }]
};

var cache = {};
var config = { rules: {} };
Object.keys(RULES).forEach(function (name) {
  cache['rule:bpmnlint/' + name] = RULES[name][0];
  config.rules[name] = 'warn';
});
var resolver = new StaticResolver(cache);
var queue = Promise.resolve();

function code(rule) { return 'BPMNLINT_' + rule.toUpperCase().replace(/-/g, '_'); }

function chinese(rule, message) {
  var texts = RULES[rule] ? RULES[rule][1] : {};
  return texts[message] || texts[''] || message;
}

// bpmnlint reads a node's flows from its incoming/outgoing references, which BPMN makes
// optional: bpmn-js writes them for what it draws, a model written by hand may leave them out.
// They are filled from the flows for the run and taken out again afterwards; a save that
// happens to serialize in between writes them, which is valid BPMN and what bpmn-js writes anyway.
function fillFlowReferences(definitions) {
  var added = [];
  function add(node, key, flow) {
    if (!node) { return; }
    var list = node.get(key);
    if (list.indexOf(flow) < 0) { list.push(flow); added.push([list, flow]); }
  }
  function walk(container) {
    (container.flowElements || []).forEach(function (element) {
      if (element.$instanceOf('bpmn:SequenceFlow')) {
        add(element.sourceRef, 'outgoing', element);
        add(element.targetRef, 'incoming', element);
      }
      if (element.flowElements) { walk(element); }
    });
  }
  (definitions.rootElements || []).forEach(function (root) {
    if (root.$instanceOf('bpmn:Process')) { walk(root); }
  });
  return function restore() {
    added.forEach(function (pair) { pair[0].splice(pair[0].indexOf(pair[1]), 1); });
  };
}

// Lint a moddle definitions tree (bpmn-js: modeler.getDefinitions()); resolves to problems in
// the shape of the server's lint (code, Chinese message, element id, severity). Runs one at a
// time, so one run's filled references never meet another's.
function lint(definitions) {
  var run = queue.then(function () { return lintOnce(definitions); });
  queue = run.catch(function () {});
  return run;
}

function lintOnce(definitions) {
  // A Linter keeps the rules it made, and some keep state between runs (no-duplicate-sequence-flows
  // remembers every flow it saw): a fresh one for each run.
  var linter = new Linter({ config: config, resolver: resolver });
  var restore = fillFlowReferences(definitions);
  var run;
  try { run = linter.lint(definitions); } catch (err) { restore(); return Promise.reject(err); }
  return run.then(function (results) {
    restore();
    var problems = [];
    Object.keys(results).sort().forEach(function (rule) {
      results[rule].forEach(function (report) {
        problems.push({
          code: code(rule),
          message: chinese(rule, report.message),
          element_id: report.id || null,
          severity: 'warning',
          source: 'bpmnlint'
        });
      });
    });
    return problems;
  }, function (err) { restore(); throw err; });
}

window.jiuzhuBpmnlint = { lint: lint, rules: Object.keys(RULES).map(code) };
