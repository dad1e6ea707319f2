// Decided cases and on-time share per procedure and org unit (data computed on
// the server). Horizontal bars: each label gets its own row, so long
// "procedure / org unit" names never overlap however many rows there are.
(function () {
  const box = document.getElementById("rate-chart");
  if (!box || !window.echarts) return;
  const data = JSON.parse(box.dataset.chart);
  const labels = data.procedures.map((p, i) => `${p}\n${data.orgs[i]}`);
  const chart = window.echarts.init(box, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    color: ["#8b1d1d", "#c9a227"],
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { data: ["按时办结率（%）", "办结数（件）"], top: 0 },
    grid: { left: 8, right: 48, bottom: 8, top: 36, containLabel: true },
    yAxis: {
      type: "category",
      data: labels,
      inverse: true,
      axisLabel: { interval: 0, lineHeight: 16, width: 180, overflow: "truncate" },
    },
    xAxis: [
      { type: "value", name: "%", min: 0, max: 100, position: "bottom" },
      { type: "value", name: "件", minInterval: 1, position: "top", splitLine: { show: false } },
    ],
    series: [
      { name: "按时办结率（%）", type: "bar", data: data.rates, barMaxWidth: 18, label: { show: true, position: "right", formatter: "{c}%" } },
      { name: "办结数（件）", type: "bar", xAxisIndex: 1, data: data.closed, barMaxWidth: 18, label: { show: true, position: "right" } },
    ],
  });
  box.dataset.ready = "true";
  window.addEventListener("resize", () => chart.resize());
})();
