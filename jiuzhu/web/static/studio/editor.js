/* The studio's editor page: the bpmn-js Modeler over the designer's draft.
 * Every change is saved (debounced) and linted by the server with deploy's own
 * checks, and at once in the page with the bpmnlint rules we keep (warnings only:
 * publishing is deploy's call); both become markers on their elements and one located list.
 * Other parts of the studio (properties panel, form and time-limit editors,
 * scenarios) work through window.jiuzhuStudio. */
(function () {
  'use strict';

  var root = document.getElementById('studio');
  var processId = root.dataset.processId;
  var csrf = root.dataset.csrf;
  var api = '/api/studio/drafts/' + encodeURIComponent(processId);
  var listeners = {};
  var markers = [];
  var deployProblems = [];
  var modelingHints = [];
  var queue = Promise.resolve();
  var bpmnName = null;
  var autosave = null;
  var importing = false;

  var studio = {
    modeler: null,
    processId: processId,
    files: {},
    revision: 0,
    problems: [],
    saveFile: saveFile,
    deleteFile: deleteFile,
    lint: lint,
    lintDiagram: lintDiagram,
    publish: publish,
    on: on,
    emit: emit,
    bpmnName: function () { return bpmnName; },
    saveDiagram: saveDiagram,
    setProperty: setProperty,
    // Other editors' pending autosaves (each a function returning a promise), flushed before a publish.
    beforePublish: [],
    showTab: function () {},
    home: home
  };
  window.jiuzhuStudio = studio;

  function on(event, fn) { (listeners[event] = listeners[event] || []).push(fn); }

  function emit(event, data) {
    (listeners[event] || []).forEach(function (fn) {
      try { fn(data); } catch (err) { console.error(err); }
    });
  }

  function status(text) { document.getElementById('studio-status').textContent = text; }

  function request(method, url, body, headers) {
    var options = { method: method, headers: Object.assign({ 'X-CSRF-Token': csrf }, headers || {}), credentials: 'same-origin' };
    if (body !== undefined) { options.body = body; }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var err = new Error(data.message || ('请求失败（' + response.status + '）'));
          err.status = response.status;
          err.data = data;
          throw err;
        }
        return data;
      });
    });
  }

  // Saves run one after another: each names the revision the previous one made.
  function serial(task) {
    var next = queue.then(task, task);
    queue = next.catch(function () {});
    return next;
  }

  function saveFile(name, text) {
    return serial(function () {
      status('保存中…');
      return request('PUT', api + '/files/' + encodeURIComponent(name), text,
        { 'Content-Type': 'text/plain; charset=utf-8', 'If-Match': String(studio.revision) })
        .then(function (data) {
          studio.files[name] = text;
          studio.revision = data.revision;
          status('已保存（修订 ' + data.revision + '）');
          emit('saved', { name: name, revision: data.revision });
          showProblems(data.problems);
          return data;
        }, function (err) {
          status('未保存：' + err.message);
          throw err;
        });
    });
  }

  function deleteFile(name) {
    return serial(function () {
      return request('DELETE', api + '/files/' + encodeURIComponent(name), undefined, { 'If-Match': String(studio.revision) })
        .then(function (data) {
          delete studio.files[name];
          studio.revision = data.revision;
          emit('files', studio.files);
          showProblems(data.problems);
          return data;
        });
    });
  }

  function lint() {
    return serial(function () {
      return request('POST', api + '/lint').then(function (data) {
        showProblems(data.problems);
        return data.problems;
      });
    });
  }

  function saveDiagram() {
    return studio.modeler.saveXML({ format: true }).then(function (result) {
      return saveFile(bpmnName, window.jiuzhuLoopRefs.restore(result.xml));
    });
  }

  function publish(note) {
    var pending = studio.beforePublish.map(function (flush) { return flush(); });
    return Promise.all(pending).then(saveDiagram).then(function () {
      return serial(function () {
        return request('POST', api + '/publish', JSON.stringify({ note: note }), { 'Content-Type': 'application/json' })
          .then(function (data) {
            studio.revision = data.revision;
            studio.baseVersion = data.version;
            return data;
          });
      });
    });
  }

  // -- problems: markers on the diagram and the located list ------------------------------

  function showProblems(problems) {
    deployProblems = problems || [];
    render();
  }

  // bpmnlint (node_modules/.jiuzhu/bpmnlint.js, jiuzhu/web/studio_bundle/bpmnlint.js) on the
  // modeler's own model, so a hint follows the drawing without waiting for the save.
  function lintDiagram() {
    if (!window.jiuzhuBpmnlint || !studio.modeler) { return Promise.resolve([]); }
    return window.jiuzhuBpmnlint.lint(studio.modeler.getDefinitions()).then(function (found) {
      modelingHints = found.map(function (p) { return Object.assign({ file: bpmnName }, p); });
      render();
      return found;
    }, function (err) {
      console.error(err);
      return [];
    });
  }

  function render() {
    // deploy's problems first: they decide publishing; on an element with several, an error's marker wins
    var problems = deployProblems.concat(modelingHints);
    studio.problems = problems;
    var marked = {};
    var canvas = studio.modeler.get('canvas');
    var registry = studio.modeler.get('elementRegistry');
    markers.forEach(function (m) { if (registry.get(m[0])) { canvas.removeMarker(m[0], m[1]); } });
    markers = [];
    var body = document.querySelector('#studio-lint tbody');
    body.textContent = '';
    var errors = 0;
    problems.forEach(function (p) {
      var cls = p.severity === 'warning' ? 'lint-warning' : 'lint-error';
      if (p.severity !== 'warning') { errors += 1; }
      var onDiagram = p.element_id && (!p.file || p.file === bpmnName) && registry.get(p.element_id);
      if (onDiagram && marked[p.element_id] !== 'lint-error') { marked[p.element_id] = cls; }
      var row = document.createElement('tr');
      row.className = cls;
      row.dataset.code = p.code;
      row.dataset.element = p.element_id || '';
      var place = p.where ? '（' + p.where.text + '）' : (p.field ? '（' + p.field + '）' : '');
      if (p.source === 'bpmnlint') {
        row.classList.add('lint-modeling');
        place = '（建模规范提示，不阻止发布）';
      }
      [p.element_id || '—', p.message, p.code, (p.file || '') + place].forEach(function (text, i) {
        var cell = document.createElement('td');
        if (i === 2 || i === 0) {
          var code = document.createElement('code');
          code.textContent = text;
          cell.appendChild(code);
        } else {
          cell.textContent = text;
        }
        row.appendChild(cell);
      });
      if (!onDiagram && /^SCENARIO_/.test(p.code)) {
        // A scenario the draft breaks: its text and result are on the 场景 tab.
        row.classList.add('selectable');
        row.dataset.scenario = p.field || '';
        row.title = '点击查看该场景';
        row.addEventListener('click', function () { studio.showTab('scenarios'); });
      }
      if (onDiagram) {
        row.classList.add('selectable');
        row.title = '点击在图中选中该元素';
        row.addEventListener('click', function () {
          var element = registry.get(p.element_id);
          if (element) {
            studio.modeler.get('selection').select(element);
            canvas.scrollToElement(element);
          }
        });
      }
      if (p.where && window.jiuzhuDmnEditor) {
        row.classList.add('selectable');
        row.title = '点击在决策表中打开';
        row.addEventListener('click', function () {
          document.querySelector('.studio-tabs a[data-tab="dmn"]').click();
          window.jiuzhuDmnEditor.open(p.file);
        });
      }
      body.appendChild(row);
    });
    Object.keys(marked).forEach(function (id) {
      canvas.addMarker(id, marked[id]);
      markers.push([id, marked[id]]);
    });
    var warnings = problems.length - errors;
    var summary = document.getElementById('studio-lint-summary');
    summary.className = errors ? 'lint-summary has-errors' : 'lint-summary';
    summary.textContent = errors
      ? '有 ' + errors + ' 个错误须修正后才能发布' + (warnings ? '，另有 ' + warnings + ' 个提示' : '')
      : (warnings ? '可以发布；有 ' + warnings + ' 个提示' : '校验通过，可以发布');
    document.getElementById('studio-publish').disabled = errors > 0;
    emit('lint', problems);
  }

  // -- extension properties (spiffworkflow:properties), with or without a moddle descriptor --

  function setProperty(elementId, name, value) {
    var modeler = studio.modeler;
    var element = modeler.get('elementRegistry').get(elementId);
    if (!element) { throw new Error('没有元素 ' + elementId); }
    var moddle = modeler.get('moddle');
    var bo = element.businessObject;
    var ns = 'http://spiffworkflow.org/bpmn/schema/1.0/core';
    var ext = bo.extensionElements || moddle.create('bpmn:ExtensionElements', { values: [] });
    ext.values = ext.values || [];
    var props = ext.values.find(function (v) { return /^spiffworkflow:properties$/i.test(v.$type); });
    if (!props) {
      props = moddle.createAny('spiffworkflow:properties', ns, {});
      props.$children = [];
      props.$parent = ext;
      ext.values.push(props);
    }
    var holder = Array.isArray(props.$children) ? '$children' : (Object.keys(props).find(function (k) { return Array.isArray(props[k]); }) || '$children');
    props[holder] = props[holder] || [];
    var existing = props[holder].find(function (p) { return p.name === name; });
    if (existing) {
      existing.value = value;
    } else {
      var prop = moddle.createAny('spiffworkflow:property', ns, { name: name, value: value });
      prop.$parent = props;
      props[holder].push(prop);
    }
    modeler.get('modeling').updateProperties(element, { extensionElements: ext });
  }

  // -- the first view ---------------------------------------------------------------------

  // The whole model when that is readable, else the readable scale from its start (the left):
  // fitting 低保's thirty steps into the window draws labels no one can read. The palette
  // floats over the canvas's left edge, so the model begins to its right.
  var READABLE = 0.75, PALETTE = 140, PAD = 20;

  function home() {
    var canvas = studio.modeler.get('canvas');
    var box = document.getElementById('studio-canvas');
    canvas.zoom(1);
    var inner = canvas.viewbox().inner;
    if (!inner.width || !inner.height || !box.clientWidth) { canvas.zoom('fit-viewport', 'auto'); return; }
    var fit = Math.min((box.clientWidth - PALETTE - PAD) / inner.width, (box.clientHeight - 2 * PAD) / inner.height);
    var scale = Math.min(1, Math.max(READABLE, fit));
    canvas.viewbox({ x: inner.x - PALETTE / scale, y: inner.y - PAD / scale,
      width: box.clientWidth / scale, height: box.clientHeight / scale });
  }

  // -- loading, autosave, tabs, publish ----------------------------------------------------

  function listFiles() {
    [['studio-form-files', function (n) { return /\.json$/.test(n) && !/\.(sla|decisions)\.json$/.test(n); }],
     ['studio-policy-files', function (n) { return /\.sla\.json$/.test(n); }]].forEach(function (pair) {
      var list = document.getElementById(pair[0]);
      if (!list) { return; }
      list.textContent = '';
      Object.keys(studio.files).sort().filter(pair[1]).forEach(function (name) {
        var item = document.createElement('li');
        item.textContent = name;
        list.appendChild(item);
      });
    });
  }

  function tabs() {
    var links = document.querySelectorAll('.studio-tabs a');
    function show(key) {
      links.forEach(function (a) {
        var active = a.dataset.tab === key;
        a.classList.toggle('active', active);
        if (active) { a.setAttribute('aria-current', 'page'); } else { a.removeAttribute('aria-current'); }
      });
      document.querySelectorAll('.studio-panel').forEach(function (panel) { panel.hidden = panel.dataset.panel !== key; });
      emit('tab', key);
    }
    studio.showTab = function (key) { show(key); history.replaceState(null, '', '#' + key); };
    links.forEach(function (a) {
      a.addEventListener('click', function (event) { event.preventDefault(); studio.showTab(a.dataset.tab); });
    });
    var wanted = location.hash.replace('#', '');
    if (wanted && document.querySelector('.studio-panel[data-panel="' + wanted + '"]')) { show(wanted); }
  }

  function publishForm() {
    document.getElementById('studio-publish-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var note = document.getElementById('studio-note').value.trim();
      var out = document.getElementById('studio-publish-result');
      if (!note) { out.textContent = '请填写变更说明'; return; }
      out.textContent = '发布中…';
      publish(note).then(function (data) {
        out.className = 'published';
        out.textContent = '已发布 v' + data.version + '（' + data.published_by + '，内容哈希 ' + data.content_hash.slice(0, 12) + '）；新案件将使用此版本，进行中的案件仍按原版本办理';
        emit('published', data);
      }, function (err) {
        out.className = 'refused';
        var reasons = ((err.data && err.data.problems) || []).map(function (p) { return p.message; })
          .filter(function (m) { return m && m !== err.message; });
        // A refused publish names its reasons (a broken scenario: which one, at which step) above the list.
        out.textContent = '未能发布：' + err.message + (reasons.length ? '。' + reasons.slice(0, 3).join('；') +
          (reasons.length > 3 ? '……（共 ' + reasons.length + ' 个，见下表）' : '') : '');
        if (err.data && err.data.problems) {
          showProblems(err.data.problems.map(function (p) {
            return Object.assign({ severity: 'error' }, p, { file: p.file ? p.file.split('/').pop() : p.file });
          }));
        }
      });
    });
  }

  // The 版本 tab after a publish: the new version on top, with its export and comparison links.
  function refreshVersions() {
    request('GET', '/api/studio/procedures/' + encodeURIComponent(processId) + '/versions').then(function (rows) {
      var body = document.querySelector('#studio-versions tbody');
      body.textContent = '';
      rows.forEach(function (v, i) {
        var row = document.createElement('tr');
        row.dataset.version = v.version;
        var at = new Date(v.created_at).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });
        ['v' + v.version, at, v.published_by || '', v.note || '', v.content_hash.slice(0, 12)].forEach(function (text) {
          var cell = document.createElement('td');
          cell.textContent = text;
          row.appendChild(cell);
        });
        var links = document.createElement('td');
        var zip = document.createElement('a');
        zip.href = '/studio/' + encodeURIComponent(processId) + '/versions/' + v.version + '.zip';
        zip.textContent = '导出 zip';
        links.appendChild(zip);
        if (i < rows.length - 1) {
          var diff = document.createElement('a');
          diff.href = '/studio/' + encodeURIComponent(processId) + '/diff?from=' + (v.version - 1) + '&to=' + v.version;
          diff.textContent = '与上一版比较';
          links.appendChild(document.createTextNode(' · '));
          links.appendChild(diff);
        }
        row.appendChild(links);
        body.appendChild(row);
      });
    });
  }

  function moddleExtensions() {
    return fetch('/static/studio/spiffworkflow-moddle.json', { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; })
      .then(function (descriptor) { return descriptor ? { spiffworkflow: descriptor } : {}; });
  }

  // A page opened on another tab (#dmn, say) has a hidden canvas with no size to fit to.
  function fitWhenShown() {
    var fitted = false;
    function fit() {
      if (fitted || !document.getElementById('studio-canvas').offsetParent) { return; }
      fitted = true;
      home();
    }
    fit();
    on('tab', function (key) { if (key === 'diagram') { fit(); } });
  }

  function start() {
    tabs();
    publishForm();
    on('published', refreshVersions);
    Promise.all([moddleExtensions(), request('GET', api)]).then(function (both) {
      var draft = both[1];
      studio.files = draft.files;
      studio.revision = draft.revision;
      studio.baseVersion = draft.base_version;
      bpmnName = Object.keys(draft.files).sort().find(function (n) { return /\.bpmn$/i.test(n); });
      studio.modeler = new window.BpmnJS({
        container: '#studio-canvas',
        additionalModules: [window.jiuzhuStudioTranslate].concat(window.jiuzhuStudioModules || []),
        moddleExtensions: both[0]
      });
      importing = true;
      return studio.modeler.importXML(window.jiuzhuLoopRefs.hide(draft.files[bpmnName])).then(function (result) {
        importing = false;
        if (result.warnings && result.warnings.length) { console.warn(result.warnings); }
        fitWhenShown();
        studio.modeler.on('commandStack.changed', function () {
          if (importing) { return; }
          lintDiagram();
          status('有未保存的修改');
          clearTimeout(autosave);
          autosave = setTimeout(saveDiagram, 600);
        });
        status('已载入（修订 ' + studio.revision + (draft.base_version ? '，基于 v' + draft.base_version : '，新流程') + '）');
        listFiles();
        on('saved', listFiles);
        on('files', listFiles);
        emit('files', studio.files);
        root.dataset.ready = 'true';
        return Promise.all([lint(), lintDiagram()]);
      });
    }).catch(function (err) {
      status('载入失败：' + err.message);
      console.error(err);
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
