// The version diff: both versions' diagrams in the bpmn-js viewer, side by
// side, with the elements the server found added (green, on the newer one),
// removed (red, on the older one) and changed (orange, on both) marked.
// Clicking a change in the list brings that element into view on both sides.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("diff-data").textContent);
  var SCALE = 0.8;

  function focus(viewer, id) {
    var element = viewer.get("elementRegistry").get(id);
    if (!element) return false;
    var canvas = viewer.get("canvas");
    canvas.zoom(SCALE);
    var box = canvas.viewbox();
    var x = element.waypoints ? element.waypoints[0].x : element.x + element.width / 2;
    var y = element.waypoints ? element.waypoints[0].y : element.y + element.height / 2;
    canvas.viewbox({ x: x - box.width / 2, y: y - box.height / 2, width: box.width, height: box.height });
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
      if (first) viewers.forEach(function (v) { focus(v, first); });
      document.querySelectorAll("[data-focus]").forEach(function (link) {
        link.addEventListener("click", function (event) {
          event.preventDefault();
          viewers.forEach(function (v) { focus(v, link.dataset.focus); });
        });
      });
      left.dataset.ready = right.dataset.ready = "true";
    })
    .catch(function (err) {
      left.dataset.ready = right.dataset.ready = "error";
      right.textContent = "流程图无法显示：" + err.message;
    });
})();
