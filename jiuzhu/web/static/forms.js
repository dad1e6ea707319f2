/* Forms: add/remove array rows and show/hide conditional fields without a round trip.
   Without this script the same buttons post the form and the server redraws it. */
(function () {
  "use strict";

  function esc(key) { return key.replace(/~/g, "~0").replace(/\//g, "~1"); }

  function read(form, name) {
    var inputs = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
    var value = "";
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.disabled) continue;
      if (el.type === "radio") { if (el.checked) value = el.value; }
      else if (el.type === "checkbox") { value = el.checked ? "true" : (value || "false"); }
      else if (el.type !== "hidden" || inputs.length === 1) { value = el.value; }
    }
    return value.trim();
  }

  function holds(form, scope, gate) {
    var all = gate.all.every(function (c) {
      var v = read(form, scope + "/" + esc(c.key));
      if (v === "") return !c.required;
      return c.values === null || c.values.indexOf(v) >= 0;
    });
    return gate.negate ? !all : all;
  }

  function refresh(form) {
    for (var pass = 0; pass < 3; pass++) {  // a shown field may open another
      var changed = false;
      form.querySelectorAll(".jz-cond[data-jz-when]").forEach(function (cond) {
        if (!cond.dataset.jzWhen || cond.closest("template")) return;
        var scope = cond.parentElement.closest("[data-jz-scope]").dataset.jzScope;
        var open = JSON.parse(cond.dataset.jzWhen).some(function (g) { return holds(form, scope, g); });
        if (cond.hidden === open) { cond.hidden = !open; cond.disabled = !open; changed = true; }
      });
      if (!changed) break;
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.jz-add, button.jz-remove");
    if (!button) return;
    event.preventDefault();
    var form = button.form || button.closest("form") || document;
    if (button.classList.contains("jz-remove")) {
      var row = button.closest("[data-jz-row]");
      var list = row.parentElement;
      row.remove();
      var first = list.querySelector("input, select, textarea, button");
      if (first) first.focus();
    } else {
      var array = button.closest("[data-jz-array]");
      var template = array.querySelector(":scope > template.jz-row-template");
      var index = parseInt(array.dataset.jzNext, 10);
      array.dataset.jzNext = String(index + 1);
      var holder = document.createElement("div");
      holder.innerHTML = template.innerHTML.split(array.dataset.jzToken).join(String(index));
      var added = holder.firstElementChild;
      array.querySelector(":scope > .jz-rows").appendChild(added);
      var input = added.querySelector("input:not([type=hidden]), select, textarea");
      if (input) input.focus();
    }
    refresh(form);
  });

  ["change", "input"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var form = event.target.closest("form");
      if (form && form.querySelector(".jz-fields")) refresh(form);
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(function (form) {
      if (form.querySelector(".jz-fields")) refresh(form);
    });
    var summary = document.querySelector(".jz-summary");
    if (summary) summary.focus();
  });
})();
