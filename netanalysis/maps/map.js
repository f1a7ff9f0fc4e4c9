// netanalysis map runtime: builds the network from the JSON block above, with filters.
// Every text from the data goes into the page through textContent or DOM nodes, never as HTML.
(function () {
  "use strict";
  var t0 = performance.now();
  var DATA = JSON.parse(document.getElementById("map-data").textContent);
  // Milliseconds spent in each step, for benchmarks/bench_maps.py.
  var timings = { parse: performance.now() - t0 };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function tip(rows) {
    var d = el("div", "tip");
    rows.forEach(function (r) {
      var row = el("div");
      row.appendChild(el("b", null, r[0] + ": "));
      row.appendChild(document.createTextNode(String(r[1])));
      d.appendChild(row);
    });
    return d;
  }

  // Legend symbols drawn as the shapes vis-network draws on the canvas (SVG in a 14 px box).
  var SVG = "http://www.w3.org/2000/svg";
  var SHAPES = {
    dot: ["circle", { cx: 7, cy: 7, r: 5.5 }],
    square: ["rect", { x: 1.5, y: 1.5, width: 11, height: 11 }],
    box: ["rect", { x: 1.5, y: 1.5, width: 11, height: 11 }],
    diamond: ["polygon", { points: "7,0.8 13.2,7 7,13.2 0.8,7" }],
    triangle: ["polygon", { points: "7,1 13,12.5 1,12.5" }],
    triangleDown: ["polygon", { points: "1,1.5 13,1.5 7,13" }],
    hexagon: ["polygon", { points: "13,7 10,1.8 4,1.8 1,7 4,12.2 10,12.2" }]
  };
  function swatch(it) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "sw");
    svg.setAttribute("viewBox", "0 0 14 14");
    svg.setAttribute("data-shape", it.shape in SHAPES ? it.shape : "square");
    var spec = SHAPES[it.shape] || SHAPES.square;
    var shape = document.createElementNS(SVG, spec[0]);
    Object.keys(spec[1]).forEach(function (k) { shape.setAttribute(k, String(spec[1][k])); });
    shape.setAttribute("fill", String(it.color));
    shape.setAttribute("stroke", String(it.border || it.color));
    shape.setAttribute("stroke-width", "1.5");
    if (it.dashed) shape.setAttribute("stroke-dasharray", "2.5 1.5");
    svg.appendChild(shape);
    return svg;
  }

  document.title = DATA.title;
  document.getElementById("title").textContent = DATA.title;
  document.getElementById("subtitle").textContent = DATA.subtitle;
  document.getElementById("notice").textContent = DATA.notice || "";

  // Legend.
  var legend = document.getElementById("legend");
  DATA.legend.forEach(function (sec) {
    legend.appendChild(el("h2", null, sec.title));
    sec.items.forEach(function (it) {
      var li = el("div", "li");
      if (it.kind === "text") {
        li.appendChild(el("span", null, it.text));
        legend.appendChild(li);
        return;
      }
      var sw;
      if (it.kind === "edge") {
        sw = el("span", "sw edge");
        sw.style.borderTopStyle = it.dashes ? "dashed" : "solid";
        sw.style.borderTopColor = it.color;
      } else {
        sw = swatch(it);
      }
      li.appendChild(sw);
      li.appendChild(el("span", null, it.text));
      legend.appendChild(li);
    });
  });

  // Filter choices.
  function fill(id, options) {
    var s = document.getElementById(id);
    options.forEach(function (o) {
      var opt = el("option", null, o[1]);
      opt.value = o[0];
      s.appendChild(opt);
    });
    if (!options.length) s.disabled = true;
  }
  fill("f-region", DATA.filters.regions);
  fill("f-group", DATA.filters.groups);
  fill("f-type", DATA.filters.types);

  // Tooltip rows stay in TIPS until an item is first hovered: building thousands of DOM
  // tooltips up front would cost more than drawing the map.
  var TIPS = { nodes: {}, edges: {} };
  function strip(kind) {
    return function (item) {
      var o = Object.assign({}, item);
      delete o.tip;
      if (item.tip && item.tip.length) TIPS[kind][item.id] = item.tip;
      return o;
    };
  }
  var tData = performance.now();
  var nodes = new vis.DataSet(DATA.nodes.map(strip("nodes")));
  var edges = new vis.DataSet(DATA.edges.map(strip("edges")));
  function giveTip(set, kind, id) {
    var rows = TIPS[kind][id];
    if (!rows) return;
    delete TIPS[kind][id];
    set.update({ id: id, title: tip(rows) });
  }
  var st = { region: "", group: "", type: "", from: "", to: "", until: "" };

  // The time slider: every month from the earliest to the latest date on the map, then "all".
  // At a month it shows what was known by the end of that month: persons first seen and links
  // first known up to then, together with the From/To dates.
  var MONTHS = (function () {
    var lo = null, hi = null;
    function see(d) {
      if (typeof d !== "string" || !/^\d{4}-\d{2}/.test(d)) return;
      var m = d.slice(0, 7);
      if (lo === null || m < lo) lo = m;
      if (hi === null || m > hi) hi = m;
    }
    DATA.nodes.forEach(function (n) { var f = n.f || {}; see(f.first); see(f.last); });
    DATA.edges.forEach(function (e) {
      var f = e.f || {};
      see(f.first); see(f.last);
      (f.moves || []).forEach(function (m) { see(m[2]); });
    });
    var out = [];
    if (lo === null) return out;
    var y = +lo.slice(0, 4), mo = +lo.slice(5, 7);
    while (out.length < 1200) {
      var m = y + "-" + (mo < 10 ? "0" : "") + mo;
      out.push(m);
      if (m >= hi) break;
      mo += 1;
      if (mo > 12) { mo = 1; y += 1; }
    }
    return out;
  })();
  var slider = document.getElementById("f-time");
  slider.max = String(MONTHS.length);
  slider.value = String(MONTHS.length);
  if (!MONTHS.length) document.getElementById("time-box").style.display = "none";
  function untilOf(pos) {
    // "-31" ends every month: ISO dates compare as text, and no date is past day 31.
    return pos < MONTHS.length ? MONTHS[pos] + "-31" : "";
  }
  function showMonth() {
    var pos = +slider.value;
    document.getElementById("f-time-label").textContent = pos < MONTHS.length ? MONTHS[pos] : "all";
  }

  function has(list, v) { return (list || []).indexOf(v) >= 0; }
  function inWindow(first, last) {
    if (st.from && last && last < st.from) return false;
    if (st.to && first && first > st.to) return false;
    if (st.until && first && first > st.until) return false;
    return true;
  }
  function nodeOk(n) {
    var f = n.f || {};
    if (f.always) return true;
    if (st.region && !has(f.regions, st.region)) return false;
    if (st.group && !has(f.groups, st.group)) return false;
    if (st.type && !has(f.types, st.type)) return false;
    return inWindow(f.first, f.last);
  }
  function moveOk(m) {  // m = [group, [exploitation types], date]
    if (st.group && m[0] !== st.group) return false;
    if (st.type && !has(m[1], st.type)) return false;
    return inWindow(m[2], m[2]);
  }
  function edgeOk(e) {
    var f = e.f || {};
    if (f.moves) {
      if (st.region && f.from_region !== st.region && f.to_region !== st.region) return false;
      return f.moves.some(moveOk);
    }
    if (!nodeView.get(e.from) || !nodeView.get(e.to)) return false;
    if (st.group && f.groups && !has(f.groups, st.group)) return false;
    return inWindow(f.first, f.last);
  }
  var nodeView = new vis.DataView(nodes, { filter: nodeOk });
  var edgeView = new vis.DataView(edges, { filter: edgeOk });

  function restyleMoves() {
    var upd = [];
    edges.forEach(function (e) {
      if (!e.f || !e.f.moves) return;
      var n = e.f.moves.filter(moveOk).length;
      if (n > 0) upd.push({ id: e.id, width: Math.min(1 + 1.5 * Math.sqrt(n) * 2, 24), label: String(n) });
    });
    if (upd.length) edges.update(upd);
  }
  function showCount() {
    var drawnNodes = nodeView.getIds().filter(function (id) { return !(nodes.get(id).f || {}).always; }).length;
    var allNodes = nodes.getIds().filter(function (id) { return !(nodes.get(id).f || {}).always; }).length;
    document.getElementById("shown").textContent =
      "showing " + drawnNodes + " of " + allNodes + " nodes, " + edgeView.length + " of " + edges.length + " links";
  }
  function apply() {
    st.region = document.getElementById("f-region").value;
    st.group = document.getElementById("f-group").value;
    st.type = document.getElementById("f-type").value;
    st.from = document.getElementById("f-from").value;
    st.to = document.getElementById("f-to").value;
    st.until = untilOf(+slider.value);
    showMonth();
    nodeView.refresh();
    edgeView.refresh();
    restyleMoves();
    showCount();
  }
  ["f-region", "f-group", "f-type", "f-from", "f-to"].forEach(function (id) {
    document.getElementById(id).addEventListener("change", apply);
  });
  // "input" fires while the slider is dragged, so the network follows the hand.
  slider.addEventListener("input", apply);
  document.getElementById("f-reset").addEventListener("click", function () {
    ["f-region", "f-group", "f-type", "f-from", "f-to"].forEach(function (id) {
      document.getElementById(id).value = "";
    });
    slider.value = String(MONTHS.length);
    apply();
  });

  var container = document.getElementById("net");
  timings.data = performance.now() - tData;
  var tNet = performance.now();
  var network = new vis.Network(container, { nodes: nodeView, edges: edgeView }, DATA.options);
  timings.network = performance.now() - tNet;
  // vis-network emits these on pointer movement, before its popup timer (tooltipDelay) reads
  // the item's title.
  network.on("hoverNode", function (e) { giveTip(nodes, "nodes", e.node); });
  network.on("hoverEdge", function (e) { giveTip(edges, "edges", e.edge); });
  restyleMoves();
  showCount();

  // State read by tests, benchmarks and anyone scripting the page.
  var state = { network: network, nodes: nodes, edges: edges, nodeView: nodeView, edgeView: edgeView,
                apply: apply, months: MONTHS, renderMs: null, readyAt: null, timings: timings };
  state.ready = new Promise(function (resolve) {
    var done = false;
    function finish() {
      if (done) return;
      done = true;
      state.renderMs = performance.now() - t0;
      state.readyAt = performance.now();
      resolve(state.renderMs);
    }
    if (DATA.options.physics && DATA.options.physics.enabled) {
      network.once("stabilizationIterationsDone", function () {
        network.setOptions({ physics: { enabled: false } });
        // Keep the settled places in the data, so nodes hidden and shown again by a filter
        // come back where they were.
        var pos = network.getPositions();
        nodes.update(Object.keys(pos).map(function (id) { return { id: id, x: pos[id].x, y: pos[id].y }; }));
        network.once("afterDrawing", finish);
        network.redraw();
      });
    } else {
      network.once("afterDrawing", finish);
      network.redraw();
    }
  });
  window.netanalysisMap = state;
})();
