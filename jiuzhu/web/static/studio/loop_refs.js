/* 流程设计: a multi-instance loop's loopDataInputRef / loopDataOutputRef name a case variable, as
 * SpiffWorkflow reads them (yishiyiyi's opinion_requests, yijianshi's items). bpmn-js resolves them
 * as references to item-aware elements and drops the ones it cannot resolve when it exports, which
 * would break the model on its first autosave. So they ride through the modeler as attributes of
 * their loop (jiuzhu:loopDataInputRef="…", which bpmn-js keeps) and are put back on save. */
(function () {
  "use strict";

  var BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL";
  var STUDIO = "urn:jiuzhu:studio";
  var XMLNS = "http://www.w3.org/2000/xmlns/";
  var NAMES = ["loopDataInputRef", "loopDataOutputRef"];

  function parse(xml) {
    var doc = new DOMParser().parseFromString(xml, "application/xml");
    return doc.getElementsByTagName("parsererror").length ? null : doc;
  }

  function all(doc, name) { return Array.prototype.slice.call(doc.getElementsByTagNameNS(BPMN, name)); }

  function hide(xml) {
    var doc = xml.indexOf("loopData") < 0 ? null : parse(xml);
    if (!doc) { return xml; }
    var ids = {};
    Array.prototype.forEach.call(doc.querySelectorAll("[id]"), function (node) { ids[node.getAttribute("id")] = true; });
    var moved = false;
    NAMES.forEach(function (name) {
      all(doc, name).forEach(function (ref) {
        var value = ref.textContent.trim();
        if (ids[value]) { return; }  // a real reference: bpmn-js keeps it
        doc.documentElement.setAttributeNS(XMLNS, "xmlns:jiuzhu", STUDIO);
        ref.parentNode.setAttributeNS(STUDIO, "jiuzhu:" + name, value);
        ref.parentNode.removeChild(ref);
        moved = true;
      });
    });
    return moved ? new XMLSerializer().serializeToString(doc) : xml;
  }

  function restore(xml) {
    var doc = xml.indexOf(STUDIO) < 0 ? null : parse(xml);
    if (!doc) { return xml; }
    all(doc, "multiInstanceLoopCharacteristics").forEach(function (loop) {
      var cardinality = Array.prototype.find.call(loop.children, function (c) { return c.localName === "loopCardinality"; });
      NAMES.slice().reverse().forEach(function (name) {  // output first, so input ends up before it
        var value = loop.getAttributeNS(STUDIO, name);
        if (!value) { return; }
        loop.removeAttributeNS(STUDIO, name);
        var ref = doc.createElementNS(BPMN, (loop.prefix ? loop.prefix + ":" : "") + name);
        ref.textContent = value;
        loop.insertBefore(ref, cardinality ? cardinality.nextSibling : loop.firstChild);
      });
    });
    doc.documentElement.removeAttributeNS(XMLNS, "jiuzhu");
    return new XMLSerializer().serializeToString(doc);
  }

  window.jiuzhuLoopRefs = { hide: hide, restore: restore };
})();
