/* 流程设计: the one DOM builder the studio's editors share (forms, time limits, decision tables,
 * dry run). el('tr', {class: 'x', text: '…', onclick: f}, [kids]): attributes that are null,
 * undefined or false are left out, true sets an empty one; empty kids are skipped. */
(function () {
  "use strict";

  function el(tag, attrs, kids) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) node.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    });
    (kids || []).forEach(function (kid) { if (kid) node.appendChild(typeof kid === "string" ? document.createTextNode(kid) : kid); });
    return node;
  }

  window.jiuzhuDom = { el: el };
})();
