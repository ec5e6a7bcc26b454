// The KPI dashboard's charts (ECharts, vendored). Each chart saves itself as PNG from its toolbox; a click on
// a bar, point or cell opens the ledger restricted to the cases behind it.
(function () {
  "use strict";
  var FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", sans-serif';

  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function base(labels, title) {
    return {
      textStyle: { fontFamily: FONT },
      tooltip: { trigger: "axis" },
      grid: { left: 56, right: 56, top: 40, bottom: 56, containLabel: true },
      toolbox: { feature: { saveAsImage: { title: labels.save, name: title, pixelRatio: 2, backgroundColor: "#fff" } } },
      animation: false,
    };
  }

  function build(key, data, labels, title) {
    var option = base(labels, title);
    if (key === "ranking") {
      option.yAxis = { type: "category", data: data.names.slice().reverse(), axisLabel: { width: 160, overflow: "truncate" } };
      option.xAxis = { type: "value", max: 100 };
      option.series = [{ type: "bar", name: labels.score, data: data.scores.slice().reverse(), barMaxWidth: 28,
                         label: { show: true, position: "right" } }];
      option.links = data.links.slice().reverse();
    } else if (key === "trend") {
      option.legend = { top: 4, left: 0 };
      option.xAxis = { type: "category", data: data.months };
      option.yAxis = [{ type: "value", minInterval: 1 }, { type: "value", max: 100, axisLabel: { formatter: "{value}%" } }];
      option.series = [
        { type: "bar", name: labels.due, data: data.due },
        { type: "bar", name: labels.late, data: data.late },
        { type: "line", name: labels.on_time, yAxisIndex: 1, data: data.on_time, connectNulls: true },
        { type: "line", name: labels.satisfaction, yAxisIndex: 1, data: data.satisfaction, connectNulls: true },
      ];
      option.links = data.links;
    } else if (key === "category" || key === "source") {
      option.legend = { top: 4, left: 0 };
      option.xAxis = { type: "category", data: data.names, axisLabel: { interval: 0, rotate: data.names.length > 5 ? 30 : 0 } };
      option.yAxis = { type: "value", minInterval: 1 };
      option.series = [{ type: "bar", name: labels.due, data: data.due, barMaxWidth: 40 },
                       { type: "bar", name: labels.late, data: data.late, barMaxWidth: 40 }];
      option.links = data.links;
    } else if (key === "heat") {
      var max = 1;
      data.cells.forEach(function (c) { if (c[2] > max) { max = c[2]; } });
      option.tooltip = { position: "top" };
      option.xAxis = { type: "category", data: data.months, splitArea: { show: true } };
      option.yAxis = { type: "category", data: data.units, splitArea: { show: true } };
      option.visualMap = { min: 0, max: max, calculable: true, orient: "horizontal", left: "center", bottom: 0,
                           inRange: { color: ["#f6f8fa", "#ffb3a7", "#cf222e"] } };
      option.grid.bottom = 72;
      option.series = [{ type: "heatmap", name: labels.late, data: data.cells, label: { show: true } }];
      option.cellLinks = data.links;
    }
    return option;
  }

  function draw(node, charts, labels) {
    var key = node.dataset.chart;
    var data = charts[key];
    var title = node.getAttribute("aria-label") || key;
    var empty = key === "heat" ? data.units.length === 0 : (key === "ranking" ? data.names.length === 0 : false);
    if (empty) {
      node.textContent = labels.empty;
      node.classList.add("muted");
      return;
    }
    var chart = window.echarts.init(node, null, { renderer: "canvas" });
    var option = build(key, data, labels, title);
    var links = option.links, cellLinks = option.cellLinks;
    delete option.links;
    delete option.cellLinks;
    chart.setOption(option);
    chart.on("click", function (params) {
      var href = cellLinks ? cellLinks[params.data[1]][params.data[0]] : (links ? links[params.dataIndex] : null);
      if (href) { window.location.href = href; }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var charts = read("kpi-charts-data");
    var labels = read("kpi-chart-labels");
    if (!charts || !window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (node) { draw(node, charts, labels); });
  });
}());
