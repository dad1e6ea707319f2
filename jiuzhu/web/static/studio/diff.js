// The version diff: both versions' diagrams in the bpmn-js viewer, side by
// side, with the elements the server found added (green, on the newer one),
// removed (red, on the older one) and changed (orange, on both) marked.
// Clicking a change in the list brings that element into view on both sides.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("diff-data").textContent);
  var SCALE = 0.8;

  // Both sides show the same part of the diagram (versions share their
  // coordinates), centred on the element wherever it exists.
  function focus(viewers, id) {
    var holder = viewers.filter(function (v) { return v.get("elementRegistry").get(id); })[0];
    if (!holder) return false;
    var element = holder.get("elementRegistry").get(id);
    var x = element.waypoints ? element.waypoints[0].x : element.x + element.width / 2;
    var y = element.waypoints ? element.waypoints[0].y : element.y + element.height / 2;
    viewers.forEach(function (v) {
      var canvas = v.get("canvas");
      canvas.zoom(SCALE);
      var box = canvas.viewbox();
      canvas.viewbox({ x: x - box.width / 2, y: y - box.height / 2, width: box.width, height: box.height });
    });
    return true;
  }

  function show(container, xml, marks) {
    var viewer = new window.BpmnJS({ container: container });
    return viewer.importXML(xml).then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      marks.forEach(function (pair) {
        pair[0].forEach(function (id) {
          if (registry.get(id)) canvas.addMarker(id, pair[1]);
        });
      });
      canvas.zoom("fit-viewport", "auto");
      container.viewer = viewer; // for the browser tests
      return viewer;
    });
  }

  var m = data.markers;
  var left = document.getElementById("diagram-from");
  var right = document.getElementById("diagram-to");
  Promise.all([
    show(left, data.from.xml, [[m.removed, "diff-removed"], [m.changed, "diff-changed"]]),
    show(right, data.to.xml, [[m.added, "diff-added"], [m.changed, "diff-changed"]]),
  ])
    .then(function (viewers) {
      var first = m.added.concat(m.changed, m.removed)[0];
      if (first) focus(viewers, first);
      document.querySelectorAll("[data-focus]").forEach(function (link) {
        link.addEventListener("click", function (event) {
          event.preventDefault();
          focus(viewers, link.dataset.focus);
        });
      });
      left.dataset.ready = right.dataset.ready = "true";
    })
    .catch(function (err) {
      left.dataset.ready = right.dataset.ready = "error";
      right.textContent = "流程图无法显示：" + err.message;
    });
})();
