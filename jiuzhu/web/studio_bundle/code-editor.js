// CodeMirror 6 for the studio's code fields, bundled by esbuild at install time (`make install`,
// through package-lock.json) into node_modules/.jiuzhu/: the packages are ES modules only.
// Exposes window.jiuzhuCode.editor(parent, options) to the plain-script pages (form_editor.js,
// properties.js). Problems arrive located by line (the sandbox compile check) or by character
// offset (a JSON syntax error, a schema path the caller resolved with locate()), and are shown
// as lint diagnostics at their place. Tab is left to move the focus (keyboard users leave the
// editor as they leave a textarea); Ctrl-F opens the search panel, in Chinese like every phrase.
import { EditorState } from '@codemirror/state';
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection, placeholder
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput, syntaxTree } from '@codemirror/language';
import { lintGutter, lintKeymap, setDiagnostics } from '@codemirror/lint';
import { search, searchKeymap, highlightSelectionMatches } from '@codemirror/search';
import { json } from '@codemirror/lang-json';
import { python } from '@codemirror/lang-python';

var PHRASES = {
  'Find': '查找', 'Replace': '替换', 'next': '下一个', 'previous': '上一个', 'all': '全部',
  'match case': '区分大小写', 'by word': '整词', 'regexp': '正则表达式', 'replace': '替换',
  'replace all': '全部替换', 'close': '关闭', 'current match': '当前匹配', 'on line': '行',
  'replaced $ matches': '已替换 $ 处', 'replaced match on line $': '已替换第 $ 行的匹配',
  'Go to line': '跳到行', 'go': '跳转', 'Diagnostics': '问题', 'No diagnostics': '没有问题',
  'Control character': '控制字符', 'Selection deleted': '已删除所选内容',
  'folded code': '已折叠的代码', 'unfold': '展开', 'to': '至', 'Fold line': '折叠', 'Unfold line': '展开',
  'Folded lines': '已折叠', 'Unfolded lines': '已展开'
};

var LANGUAGES = { json: json, python: python };

// A problem → a CodeMirror diagnostic: {from, to} offsets win, else {line[, column]} (1-based).
function diagnostic(doc, p) {
  var from = p.from, to = p.to;
  if (typeof from !== 'number') {
    var number = Math.min(Math.max(p.line || 1, 1), doc.lines), line = doc.line(number);
    from = p.column ? Math.min(line.from + p.column - 1, line.to) : line.from;
    to = p.column ? Math.min(from + 1, line.to) : line.to;
  }
  from = Math.min(Math.max(from, 0), doc.length);
  to = Math.min(Math.max(typeof to === 'number' ? to : from, from), doc.length);
  return {
    from: from, to: to, severity: p.severity === 'warning' ? 'warning' : 'error',
    message: p.message, source: p.code || undefined
  };
}

function decode(text) {
  try { return JSON.parse(text); } catch (e) { return text; }
}

// Values of a JSON node's children, skipping punctuation and comments.
function values(node) {
  var out = [];
  for (var child = node.firstChild; child; child = child.nextSibling) {
    if (/^(Object|Array|String|Number|True|False|Null|Property)$/.test(child.name)) out.push(child);
  }
  return out;
}

// The text range of a JSON path (["properties", "name", "type"]) in a JSON document: the last
// key's name, or the array item; null when the path is not in the text.
function locate(state, path) {
  var tree = syntaxTree(state), node = tree.topNode.firstChild, mark = null;
  while (node && !/^(Object|Array|String|Number|True|False|Null)$/.test(node.name)) node = node.nextSibling;
  for (var i = 0; node && i < path.length; i++) {
    var segment = String(path[i]), next = null;
    if (node.name === 'Object') {
      values(node).forEach(function (property) {
        var name = property.getChild('PropertyName');
        if (!next && name && decode(state.sliceDoc(name.from, name.to)) === segment) {
          next = values(property).pop() || null; mark = { from: name.from, to: name.to };
        }
      });
    } else if (node.name === 'Array' && /^\d+$/.test(segment)) {
      next = values(node)[+segment] || null;
      if (next) mark = { from: next.from, to: next.to };
    }
    node = next;
  }
  return node && mark ? mark : null;
}

function editor(parent, options) {
  options = options || {};
  var language = LANGUAGES[options.language];
  var extensions = [
    EditorState.phrases.of(PHRASES),
    lineNumbers(), highlightActiveLineGutter(), highlightActiveLine(), drawSelection(), history(),
    indentOnInput(), bracketMatching(), highlightSelectionMatches(), lintGutter(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    search({ top: true }),
    keymap.of([].concat(searchKeymap, historyKeymap, lintKeymap, defaultKeymap)),
    EditorView.lineWrapping,
    EditorView.contentAttributes.of(options.testid
      ? { 'aria-label': options.label || '代码', 'data-testid': options.testid, 'spellcheck': 'false' }
      : { 'aria-label': options.label || '代码', 'spellcheck': 'false' }),
    EditorView.theme({
      '&': { fontSize: '13px', border: '1px solid #bbb', borderRadius: '3px', background: '#fff' },
      '&.cm-focused': { outline: '2px solid #1a66c2' },
      '.cm-content': { fontFamily: 'ui-monospace, Menlo, Consolas, monospace', minHeight: (options.lines || 4) * 1.4 + 'em' },
      '.cm-scroller': { maxHeight: options.maxHeight || '30em', overflow: 'auto' },
      '.cm-tooltip-lint': { fontFamily: 'sans-serif' }
    }),
    EditorView.updateListener.of(function (update) {
      if (update.docChanged && options.onChange) options.onChange(update.state.doc.toString(), handle);
    })
  ];
  if (language) extensions.push(language());
  if (options.placeholder) extensions.push(placeholder(options.placeholder));
  var view = new EditorView({ state: EditorState.create({ doc: options.doc || '', extensions: extensions }), parent: parent });
  var handle = {
    view: view,
    get value() { return view.state.doc.toString(); },
    set value(text) { view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }); },
    // Replace the shown diagnostics with these problems ([] clears them).
    setProblems: function (problems) {
      var doc = view.state.doc;
      view.dispatch(setDiagnostics(view.state, (problems || []).map(function (p) { return diagnostic(doc, p); })));
    },
    locate: function (path) { return locate(view.state, path); },
    focus: function () { view.focus(); },
    select: function (from, to) { view.dispatch({ selection: { anchor: from, head: to }, scrollIntoView: true }); view.focus(); }
  };
  parent.jiuzhuCode = handle;
  return handle;
}

window.jiuzhuCode = { editor: editor };
