/* Draws every dashboard chart (supervision/_chart.html) with the vendored Apache ECharts.
 *
 * Without JavaScript a chart is its table. With it, the chart is drawn from the option the page
 * embedded (json_script), the table folds behind a "Table" button, charts follow their box's
 * size, charts that htmx swaps in are drawn and charts it swaps out are disposed, and clicking a
 * bar (or slice) whose category has a drill value opens the same page with that filter.
 * A page of charts includes this script once, in its head (supervision/_chart_assets.html);
 * ECharts (1 MB) is loaded only on pages that have a chart, once.
 */
(function () {
  "use strict";
  if (window.OneThingCharts) return;

  var script = document.currentScript;
  var echartsSrc = script && script.dataset.echarts;
  var loading = null;

  function loadEcharts() {
    if (window.echarts) return Promise.resolve(window.echarts);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = echartsSrc;
        tag.onload = function () { resolve(window.echarts); };
        tag.onerror = function () { loading = null; reject(new Error("ECharts did not load")); };
        document.head.appendChild(tag);
      });
    }
    return loading;
  }

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function drillUrl(drill, category) {
    if (!drill || !drill.param) return null;
    var value = Object.prototype.hasOwnProperty.call(drill.targets, category)
      ? drill.targets[category] : null;
    if (value === null || value === undefined) return null;
    var url = new URL(window.location.href);
    url.searchParams.delete("page");
    url.searchParams.set(drill.param, value);
    return url.toString();
  }

  function setTableShown(figure, shown) {
    var table = figure.querySelector("[data-chart-table]");
    var toggle = figure.querySelector("[data-chart-toggle]");
    if (table) table.hidden = !shown;
    if (toggle) toggle.setAttribute("aria-expanded", shown ? "true" : "false");
  }

  function draw(echarts, figure) {
    var canvas = figure.querySelector("[data-chart-canvas]");
    var option = readJson(figure.id + "-option");
    if (!canvas || !option) return;
    var drill = readJson(figure.id + "-drill");
    canvas.hidden = false;
    var lang = (document.documentElement.lang || "").toLowerCase();
    var chart = echarts.getInstanceByDom(canvas) ||
      echarts.init(canvas, null, { locale: lang.indexOf("zh") === 0 ? "ZH" : "EN" });
    chart.setOption(option, true);
    chart.on("click", function (params) {
      var url = drillUrl(drill, params.name);
      if (url) window.location.assign(url);
    });
    if (drill && drill.param && Object.keys(drill.targets).length) {
      canvas.classList.add("chart-drillable");
    }
    if (window.ResizeObserver) {
      new ResizeObserver(function () { chart.resize(); }).observe(canvas);
    }
    var toggle = figure.querySelector("[data-chart-toggle]");
    if (toggle) {
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        setTableShown(figure, toggle.getAttribute("aria-expanded") !== "true");
      });
    }
    setTableShown(figure, false);
    figure.dataset.chartReady = "true";
  }

  function drawAll() {
    var figures = document.querySelectorAll("[data-chart]:not([data-chart-ready])");
    if (!figures.length) return;
    loadEcharts().then(function (echarts) {
      figures.forEach(function (figure) {
        if (!figure.dataset.chartReady && figure.isConnected) draw(echarts, figure);
      });
    }).catch(function () { /* the tables stay: they hold the same figures */ });
  }

  function disposeWithin(element) {
    if (!window.echarts || !element.querySelectorAll) return;
    var canvases = element.matches && element.matches("[data-chart-canvas]")
      ? [element] : element.querySelectorAll("[data-chart-canvas]");
    canvases.forEach(function (canvas) {
      var chart = window.echarts.getInstanceByDom(canvas);
      if (chart) chart.dispose();
    });
  }

  window.OneThingCharts = { drawAll: drawAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
  document.addEventListener("htmx:load", drawAll);
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    disposeWithin(event.target);
  });
  window.addEventListener("resize", function () {
    if (!window.echarts) return;
    document.querySelectorAll("[data-chart-ready] [data-chart-canvas]").forEach(function (canvas) {
      var chart = window.echarts.getInstanceByDom(canvas);
      if (chart) chart.resize();
    });
  });
})();
