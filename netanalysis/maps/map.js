// netanalysis map runtime: builds the network from the JSON block above, with filters.
// Every text from the data goes into the page through textContent or DOM nodes, never as HTML.
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("map-data").textContent);
  var t0 = performance.now();

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
      var sw = el("span", "sw" + (it.kind === "edge" ? " edge" : ""));
      if (it.kind === "edge") {
        sw.style.borderTopStyle = it.dashes ? "dashed" : "solid";
        sw.style.borderTopColor = it.color;
      } else {
        sw.style.background = it.color;
        sw.style.border = "2px " + (it.dashed ? "dashed " : "solid ") + (it.border || it.color);
        if (it.shape === "dot") sw.style.borderRadius = "50%";
        if (it.shape === "diamond") sw.style.transform = "rotate(45deg) scale(0.8)";
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

  var rawNodes = DATA.nodes.map(function (n) {
    var o = Object.assign({}, n);
    delete o.tip;
    if (n.tip && n.tip.length) o.title = tip(n.tip);
    return o;
  });
  var rawEdges = DATA.edges.map(function (e) {
    var o = Object.assign({}, e);
    delete o.tip;
    if (e.tip && e.tip.length) o.title = tip(e.tip);
    return o;
  });
  var nodes = new vis.DataSet(rawNodes);
  var edges = new vis.DataSet(rawEdges);
  var st = { region: "", group: "", type: "", from: "", to: "" };

  function has(list, v) { return (list || []).indexOf(v) >= 0; }
  function inWindow(first, last) {
    if (st.from && last && last < st.from) return false;
    if (st.to && first && first > st.to) return false;
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
    nodeView.refresh();
    edgeView.refresh();
    restyleMoves();
    showCount();
  }
  ["f-region", "f-group", "f-type", "f-from", "f-to"].forEach(function (id) {
    document.getElementById(id).addEventListener("change", apply);
  });
  document.getElementById("f-reset").addEventListener("click", function () {
    ["f-region", "f-group", "f-type", "f-from", "f-to"].forEach(function (id) {
      document.getElementById(id).value = "";
    });
    apply();
  });

  var container = document.getElementById("net");
  var network = new vis.Network(container, { nodes: nodeView, edges: edgeView }, DATA.options);
  restyleMoves();
  showCount();

  // State read by tests, benchmarks and anyone scripting the page.
  var state = { network: network, nodes: nodes, edges: edges, nodeView: nodeView, edgeView: edgeView,
                apply: apply, renderMs: null, readyAt: null };
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
