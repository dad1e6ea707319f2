/* 流程设计 · 决策表: the draft's DMN files in dmn-js's decision-table editor. Edits are
 * autosaved into the draft through window.jiuzhuStudio (editor.js: the same revision-guarded
 * save as every draft file), and the lint that follows each save (deploy's own DMN checks)
 * is shown here by decision, rule row and column, with the cell marked.
 * dmn-js is loaded the first time the tab is opened. Mounted in #studio-dmn. */
(function () {
  'use strict';

  var BUNDLE = '/static/vendor/studio/dmn-modeler.js';
  var STYLES = ['dmn-js-shared.css', 'dmn-js-decision-table.css', 'dmn-js-decision-table-controls.css', 'dmn-embedded.css'];
  var DECISION_ID = /^[a-z][a-z0-9_]{1,39}$/;
  // The engine evaluates every cell as Python (SpiffWorkflow), not FEEL: dmn-js edits them as plain text.
  var LANGUAGES = { options: [{ value: 'python', label: 'Python（引擎执行的表达式）' }], defaults: { editor: 'python' } };
  var loading = null;

  var el = window.jiuzhuDom.el;

  function loadDmnJs() {
    if (loading) { return loading; }
    STYLES.forEach(function (name) {
      document.head.appendChild(el('link', { rel: 'stylesheet', href: '/static/vendor/studio/' + name }));
    });
    loading = new Promise(function (resolve, reject) {
      var script = el('script', { src: BUNDLE });
      script.onload = function () { resolve(window.DmnJS); };
      script.onerror = function () { loading = null; reject(new Error('未能载入决策表编辑器（dmn-js）')); };
      document.head.appendChild(script);
    });
    return loading;
  }

  function escapeXml(text) {
    return text.replace(/[<>&"']/g, function (c) { return { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' }[c]; });
  }

  // A new decision: one input column, one output column and one catch-all rule to fill in.
  function emptyTable(id, name, processId) {
    var n = escapeXml(name);
    return '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs_' + id + '" name="' + n + '" namespace="https://jiuzhu.example/processes/' + processId + '">\n' +
      '  <decision id="' + id + '" name="' + n + '">\n' +
      '    <decisionTable id="' + id + '_table" hitPolicy="UNIQUE">\n' +
      '      <input id="' + id + '_in_1" label="条件">\n' +
      '        <inputExpression id="' + id + '_in_1_expr" typeRef="string"><text>value</text></inputExpression>\n' +
      '      </input>\n' +
      '      <output id="' + id + '_out_1" label="结果" name="result" typeRef="string" />\n' +
      '      <rule id="' + id + '_rule_1">\n' +
      '        <inputEntry id="' + id + '_rule_1_in_1"><text>-</text></inputEntry>\n' +
      '        <outputEntry id="' + id + '_rule_1_out_1"><text>""</text></outputEntry>\n' +
      '      </rule>\n' +
      '    </decisionTable>\n' +
      '  </decision>\n' +
      '</definitions>\n';
  }

  function DmnEditor(root, studio) {
    this.root = root; this.studio = studio; this.name = null; this.modeler = null;
    this.importing = false; this.timer = null; this.problems = [];
    this.build(); this.refreshList();
    var self = this;
    studio.on('files', function () {
      self.refreshList();
      if (self.name && !self.modeler && !self.root.closest('[hidden]')) { self.open(self.name); }
    });
    studio.on('lint', function (problems) { self.showProblems(problems); });
    studio.beforePublish.push(function () { return self.timer ? self.save() : Promise.resolve(); });
    studio.on('tab', function (key) { if (key === 'dmn' && self.name && !self.modeler) { self.open(self.name); } });
  }

  DmnEditor.prototype.build = function () {
    var self = this;
    this.list = el('ul', { 'class': 'sf-files', 'data-testid': 'dmn-files' });
    this.newId = el('input', { type: 'text', placeholder: '决策标识，如 dibao_extra', 'aria-label': '决策标识', 'data-testid': 'dmn-new-id' });
    this.newName = el('input', { type: 'text', placeholder: '决策名称，如 加发档次', 'aria-label': '决策名称', 'data-testid': 'dmn-new-name' });
    this.status = el('span', { 'class': 'sf-status', role: 'status', 'data-testid': 'dmn-status' });
    this.canvas = el('div', { 'class': 'dmn-canvas', 'data-testid': 'dmn-canvas' });
    this.summary = el('p', { 'class': 'lint-summary', 'data-testid': 'dmn-lint-summary' });
    this.rows = el('tbody');
    this.root.textContent = '';
    this.root.appendChild(el('div', { 'class': 'dmn-layout' }, [
      el('aside', { 'class': 'sf-side' }, [
        el('h3', { text: '决策表文件' }), this.list,
        el('div', { 'class': 'sf-new' }, [this.newId, this.newName,
          el('button', { type: 'button', text: '新建决策表', 'data-testid': 'dmn-new', onclick: function () { self.create(); } })]),
        el('p', { 'class': 'sf-hint', text: '单元格按 Python 表达式执行：输入单元格用 ? 代表输入值（如 0.3 <= ? < 0.6），留空或写 - 表示任意值；字符串用英文双引号。' })]),
      el('div', { 'class': 'dmn-main' }, [
        el('div', { 'class': 'sf-toolbar' }, [el('strong', { 'data-testid': 'dmn-file' }), this.status]),
        this.canvas,
        el('div', { 'class': 'dmn-check' }, [
          el('h3', { text: '校验 ' }, [el('small', { text: '与 jiuzhu deploy 相同的检查' })]), this.summary,
          el('table', { 'class': 'inbox', 'data-testid': 'dmn-lint' }, [
            el('thead', {}, [el('tr', {}, ['位置', '问题', '代码'].map(function (h) { return el('th', { text: h }); }))]), this.rows])])])]));
  };

  DmnEditor.prototype.names = function () {
    return Object.keys(this.studio.files || {}).filter(function (n) { return /\.dmn$/i.test(n); }).sort();
  };

  DmnEditor.prototype.refreshList = function () {
    var self = this;
    this.list.textContent = '';
    this.names().forEach(function (name) {
      var bad = self.problems.some(function (p) { return p.file === name && p.severity !== 'warning'; });
      self.list.appendChild(el('li', {}, [el('button', { type: 'button', text: name + (bad ? ' ⚠' : ''), 'data-file': name,
        'class': name === self.name ? 'active' : '', onclick: function () { self.open(name); } })]));
    });
    if (!this.names().length) { this.status.textContent = '草稿中还没有决策表（*.dmn）'; return; }
    if (!this.name || this.names().indexOf(this.name) < 0) { this.name = this.names()[0]; }
  };

  DmnEditor.prototype.create = function () {
    var id = this.newId.value.trim(), name = this.newName.value.trim() || '新决策表', file = id + '.dmn';
    if (!DECISION_ID.test(id)) { this.status.textContent = '决策标识须以小写字母开头，只含小写字母、数字和下划线（2–40 个字符）'; return null; }
    if (this.studio.files[file] !== undefined) { this.status.textContent = '草稿中已有 ' + file; return null; }
    var self = this;
    return this.studio.saveFile(file, emptyTable(id, name, this.studio.processId)).then(function () {
      self.newId.value = ''; self.newName.value = '';
      self.studio.emit('files', self.studio.files);
      return self.open(file);
    });
  };

  DmnEditor.prototype.modelerFor = function (DmnJS) {
    var self = this;
    if (this.modeler) { return this.modeler; }
    var view = { additionalModules: [window.jiuzhuDmnTranslate], expressionLanguages: LANGUAGES };
    this.modeler = new DmnJS({ container: this.canvas, decisionTable: view, drd: { additionalModules: [window.jiuzhuDmnTranslate] } });
    this.modeler.on('views.changed', function () {
      var viewer = self.modeler.getActiveViewer();
      if (!viewer || viewer.jiuzhuWatched) { return; }
      viewer.jiuzhuWatched = true;
      viewer.on('elements.changed', function () {
        setTimeout(function () { self.markCells(); }, 0);
        if (self.importing) { return; }
        self.status.textContent = '有未保存的修改';
        clearTimeout(self.timer);
        self.timer = setTimeout(function () { self.save(); }, 600);
      });
    });
    return this.modeler;
  };

  DmnEditor.prototype.open = function (name) {
    var self = this;
    if (this.timer && this.name && this.name !== name) { clearTimeout(this.timer); this.timer = null; this.save(); }
    this.name = name;
    this.root.querySelector('[data-testid=dmn-file]').textContent = name;
    this.refreshList();
    this.status.textContent = '正在载入…';
    this.loaded = null;  // until then, nothing the canvas shows may be saved under this name
    return loadDmnJs().then(function (DmnJS) {
      var modeler = self.modelerFor(DmnJS);
      self.importing = true;
      return modeler.importXML(self.studio.files[name]).then(function () {
        var table = modeler.getViews().find(function (v) { return v.type === 'decisionTable'; });
        if (!table) { throw new Error('此文件没有决策表（引擎只执行决策表）'); }
        return modeler.open(table);
      }).then(function () {
        self.importing = false;
        self.loaded = name;
        self.canvas.hidden = false;
        self.status.textContent = '已载入，修改后自动保存';
        self.root.dataset.ready = name;
        self.showProblems(self.studio.problems);
      });
    }).catch(function (err) {
      self.importing = false;
      self.canvas.hidden = true;
      self.status.textContent = '无法以决策表打开 ' + name + '：' + err.message;
      self.showProblems(self.studio.problems);
    });
  };

  DmnEditor.prototype.save = function () {
    var self = this, name = this.name;
    clearTimeout(this.timer); this.timer = null;
    if (!this.modeler || !name || this.loaded !== name) { return Promise.resolve(); }
    this.status.textContent = '保存中…';
    return this.modeler.saveXML({ format: true }).then(function (result) {
      if (result.xml === self.studio.files[name]) { self.status.textContent = '已保存'; return null; }
      return self.studio.saveFile(name, result.xml).then(function (data) {
        self.status.textContent = '已保存（修订 ' + data.revision + '）';
      });
    }).catch(function (err) {
      self.status.textContent = '未保存：' + err.message;
      self.status.classList.add('bad');
    });
  };

  DmnEditor.prototype.showProblems = function (problems) {
    var self = this;
    this.problems = problems || [];
    var mine = this.problems.filter(function (p) { return p.file === self.name; });
    var errors = this.problems.filter(function (p) { return p.severity !== 'warning'; }).length;
    this.rows.textContent = '';
    mine.forEach(function (p) {
      var row = el('tr', { 'class': p.severity === 'warning' ? 'lint-warning' : 'lint-error', 'data-code': p.code, 'data-element': p.element_id || '' }, [
        el('td', { text: p.where ? p.where.text : (p.element_id || '—') }), el('td', { text: p.message }),
        el('td', {}, [el('code', { text: p.code })])]);
      self.rows.appendChild(row);
    });
    var elsewhere = errors - mine.filter(function (p) { return p.severity !== 'warning'; }).length;
    this.summary.className = errors ? 'lint-summary has-errors' : 'lint-summary';
    this.summary.textContent = (mine.length ? '本决策表有 ' + mine.length + ' 个问题' : '本决策表校验通过') +
      (elsewhere ? '；草稿其他文件还有 ' + elsewhere + ' 个错误' : '') + (errors ? '，修正前不能发布' : '');
    this.refreshList();
    this.markCells();
  };

  // Cells are re-rendered on every change, so their marks are put back after each one.
  DmnEditor.prototype.markCells = function () {
    var self = this;
    this.canvas.querySelectorAll('.dmn-lint-error').forEach(function (node) { node.classList.remove('dmn-lint-error'); });
    this.problems.forEach(function (p) {
      if (p.file !== self.name || !p.element_id || p.severity === 'warning') { return; }
      var found = self.canvas.querySelectorAll('[data-element-id="' + CSS.escape(p.element_id) + '"]');
      if (!found.length && p.where && !p.where.rule) { found = self.canvas.querySelectorAll('.tjs-table'); }
      found.forEach(function (node) { node.classList.add('dmn-lint-error'); });
    });
  };

  function mount() {
    var root = document.getElementById('studio-dmn');
    if (!root || root.dataset.mounted) { return; }
    if (!window.jiuzhuStudio || !window.jiuzhuStudio.on) { setTimeout(mount, 100); return; }
    root.dataset.mounted = '1';
    window.jiuzhuDmnEditor = new DmnEditor(root, window.jiuzhuStudio);
  }

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', mount); } else { mount(); }
})();
