// bpmn-js-token-simulation for the studio's modeler, bundled by esbuild at install time
// (`make install`, through package-lock.json) into node_modules/.jiuzhu/: the package is
// ES modules only. The module joins the modeler through window.jiuzhuStudioModules
// (jiuzhu/web/static/studio/editor.js); it brings its own toggle on the canvas, which the
// small module below words in Chinese (the package writes its labels as fixed English text).
import TokenSimulationModule from 'bpmn-js-token-simulation/lib/modeler';

var TEXTS = {
  'Token Simulation': '令牌模拟',
  'Play/Pause Simulation': '播放/暂停',
  'Reset Simulation': '重置模拟',
  'Toggle Simulation Log': '模拟日志',
  'Set Sequence Flow': '选择走向',
  'Trigger Event': '触发事件',
  'Add pause point': '在此暂停',
  'Remove pause point': '取消暂停',
  'Play Simulation': '模拟运行',
  'Pause Simulation': '模拟暂停',
  'Finished': '已结束',
  'Not supported': '不支持',
  'Found unsupported elements': '发现不支持的元素',
  'Process started': '流程开始',
  'Process finished': '流程结束',
  'Process canceled': '流程取消',
  'SubProcess started': '子流程开始',
  'SubProcess finished': '子流程结束',
  'SubProcess canceled': '子流程取消'
};

function chinese(node) {
  if (node.nodeType === 3) {
    var text = node.nodeValue.trim();
    if (TEXTS[text]) { node.nodeValue = node.nodeValue.replace(text, TEXTS[text]); }
    return;
  }
  if (node.nodeType !== 1) { return; }
  var title = node.getAttribute('title');
  if (title && TEXTS[title]) { node.setAttribute('title', TEXTS[title]); }
  for (var child = node.firstChild; child; child = child.nextSibling) { chinese(child); }
}

function ChineseLabels(eventBus, canvas) {
  eventBus.on('diagram.init', 500, function () {
    var container = canvas.getContainer();
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        if (change.type === 'attributes') { chinese(change.target); }
        change.addedNodes.forEach(chinese);
      });
    }).observe(container, { subtree: true, childList: true, attributes: true, attributeFilter: ['title'] });
  });
  eventBus.on('import.done', function () { chinese(canvas.getContainer()); });
}
ChineseLabels.$inject = ['eventBus', 'canvas'];

var Chinese = { __init__: ['jiuzhuTokenSimulationChinese'], jiuzhuTokenSimulationChinese: ['type', ChineseLabels] };

window.jiuzhuStudioModules = (window.jiuzhuStudioModules || []).concat([TokenSimulationModule, Chinese]);
