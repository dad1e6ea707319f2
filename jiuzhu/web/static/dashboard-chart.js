// On-time rate per procedure and org unit (data computed on the server).
(function () {
  const box = document.getElementById("rate-chart");
  if (!box || !window.echarts) return;
  const data = JSON.parse(box.dataset.chart);
  const chart = window.echarts.init(box, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    color: ["#8b1d1d", "#c9a227"],
    tooltip: { trigger: "axis" },
    legend: { data: ["按时办结率（%）", "办结数"] },
    grid: { left: 50, right: 50, bottom: 80, top: 40 },
    xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: data.labels.length > 4 ? 30 : 0 } },
    yAxis: [
      { type: "value", name: "%", min: 0, max: 100 },
      { type: "value", name: "件", minInterval: 1 },
    ],
    series: [
      { name: "按时办结率（%）", type: "bar", data: data.rates, barMaxWidth: 40, label: { show: true, position: "top" } },
      { name: "办结数", type: "line", yAxisIndex: 1, data: data.closed },
    ],
  });
  box.dataset.ready = "true";
  window.addEventListener("resize", () => chart.resize());
})();
