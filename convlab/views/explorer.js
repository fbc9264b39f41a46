/* The run explorer: every run of the build's studies, seed by seed, drawn as SVG in the
 * reader's browser from the page's own data (convlab.views.explorer). No library, no
 * network. Pick a study; each seed's test accuracy is a dot on its arm's row, the bar is
 * the arm's interval; hover, focus (Tab) or click a dot for that run's learning curves.
 */
(function () {
  "use strict";
  if (window.convlabExplorer) { window.convlabExplorer.scan(); return; }
  const SVG = "http://www.w3.org/2000/svg";
  const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    children.forEach(c => e.append(c));
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const pct = v => (100 * v).toFixed(2);
  function ticks(lo, hi, n) {  // "nice" ticks between lo and hi
    const raw = (hi - lo) / n, p = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map(m => m * p).find(s => s >= raw);
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-12; t += step) out.push(t);
    return out;
  }

  function Explorer(root) {
    const data = JSON.parse(root.querySelector("script.convlab-explorer-data").textContent);
    const uid = "cx" + Math.random().toString(36).slice(2, 8);
    const choose = el("select", { id: uid + "-study", name: "study" });
    data.studies.forEach((s, i) => choose.append(el("option", { value: String(i), text: s.name })));
    const question = el("p", { class: "cx-question" });
    const plot = el("div", { class: "cx-plot" });
    const curve = el("div", { class: "cx-curve", "aria-live": "polite" });
    const table = el("table", { class: "cx-runs" });
    root.append(el("div", { class: "cx-controls" }, el("label", { for: uid + "-study", text: "Study " }), choose),
      question, el("div", { class: "cx-panels" }, plot, curve),
      el("details", { class: "cx-numbers" }, el("summary", { text: "Every run as a table" }), table));

    function showCurve(arm, run) {
      const w = 360, h = 220, m = { l: 44, r: 10, t: 24, b: 34 };
      const series = [["val_accuracy", "validation", "#d62728"], ["accuracy", "training", "#1f77b4"]]
        .filter(([k]) => run.history[k] && run.history[k].length);
      const values = series.flatMap(([k]) => run.history[k]);
      const epochs = Math.max(...series.map(([k]) => run.history[k].length));
      const lo = Math.min(...values), hi = Math.max(...values);
      const pad = (hi - lo) * 0.08 || 0.01;
      const y = v => m.t + (h - m.t - m.b) * (1 - (v - lo + pad) / (hi - lo + 2 * pad));
      const x = e => m.l + (w - m.l - m.r) * (epochs > 1 ? (e - 1) / (epochs - 1) : 0.5);
      const s = svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: "img",
        "aria-label": `learning curves of ${arm}, seed ${run.seed}` });
      s.append(svg("text", { x: m.l, y: 14, "font-size": 12, "font-weight": "bold" },
        `${arm}, seed ${run.seed}: test ${pct(run.test_accuracy)} %`));
      ticks(lo - pad, hi + pad, 4).forEach(t => {
        s.append(svg("line", { x1: m.l, x2: w - m.r, y1: y(t), y2: y(t), stroke: "#eee" }));
        s.append(svg("text", { x: m.l - 4, y: y(t) + 4, "font-size": 10, "text-anchor": "end" }, pct(t).replace(/0+$/, "").replace(/\.$/, "")));
      });
      for (let e = 1; e <= epochs; e++) {
        if (epochs <= 10 || e % Math.ceil(epochs / 10) === 0 || e === 1) {
          s.append(svg("text", { x: x(e), y: h - m.b + 14, "font-size": 10, "text-anchor": "middle" }, String(e)));
        }
      }
      s.append(svg("text", { x: (m.l + w - m.r) / 2, y: h - 4, "font-size": 11, "text-anchor": "middle" }, "epoch"));
      const legend = el("p", { class: "cx-note" });
      series.forEach(([k, label, colour]) => {
        const pts = run.history[k].map((v, e) => `${x(e + 1)},${y(v)}`).join(" ");
        s.append(svg("polyline", { points: pts, fill: "none", stroke: colour, "stroke-width": 2 }));
        legend.append(el("span", { style: `color: ${colour}; margin-right: 1em`, text: `── ${label} accuracy %` }));
      });
      if (run.best_epoch) {
        s.append(svg("line", { x1: x(run.best_epoch), x2: x(run.best_epoch), y1: m.t, y2: h - m.b,
          stroke: "#999", "stroke-dasharray": "3 3" }));
      }
      if (run.best_epoch) legend.append(el("span", { text: `┆ epoch ${run.best_epoch}, whose weights were kept` }));
      curve.replaceChildren(s, legend);
      root.dataset.selected = `${arm}|${run.seed}`;
      root.querySelectorAll(".cx-dot").forEach(d => d.setAttribute("stroke",
        d.dataset.arm === arm && d.dataset.seed === String(run.seed) ? "#000" : "#fff"));
    }

    function render() {
      const study = data.studies[Number(choose.value)];
      question.textContent = `${study.question} Dots: one per seed; bars: the ${study.confidence} % ` +
        `interval of the arm's mean, over ${study.covers}.`;
      const arms = study.arms, row = 30, m = { l: 170, r: 16, t: 10, b: 36 };
      const w = 620, h = m.t + m.b + row * arms.length;
      const xs = arms.flatMap(a => a.runs.map(r => r.test_accuracy).concat(
        a.low === null ? [] : [a.low, a.high]));
      if (!xs.length) {
        plot.replaceChildren(el("p", { text: "No run of this study has finished in this build." }));
        curve.replaceChildren();
        table.replaceChildren();
        return;
      }
      let lo = Math.min(...xs), hi = Math.max(...xs);
      const pad = (hi - lo) * 0.06 || 0.005;
      lo -= pad; hi += pad;
      const x = v => m.l + (w - m.l - m.r) * (v - lo) / (hi - lo);
      const s = svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: "group",
        "aria-label": `test accuracy of every run of ${study.name}` });
      ticks(lo, hi, 6).forEach(t => {
        s.append(svg("line", { x1: x(t), x2: x(t), y1: m.t, y2: h - m.b, stroke: "#eee" }));
        s.append(svg("text", { x: x(t), y: h - m.b + 14, "font-size": 10, "text-anchor": "middle" }, pct(t)));
      });
      s.append(svg("text", { x: (m.l + w - m.r) / 2, y: h - 6, "font-size": 11, "text-anchor": "middle" }, "test accuracy %"));
      let first = null;
      arms.forEach((arm, i) => {
        const cy = m.t + row * i + row / 2;
        s.append(svg("text", { x: m.l - 8, y: cy + 4, "font-size": 11, "text-anchor": "end" }, arm.label));
        if (arm.low !== null) {
          s.append(svg("line", { x1: x(arm.low), x2: x(arm.high), y1: cy, y2: cy, stroke: "#555", "stroke-width": 2 }));
          s.append(svg("line", { x1: x(arm.mean), x2: x(arm.mean), y1: cy - 7, y2: cy + 7, stroke: "#555", "stroke-width": 2 }));
        }
        if (!arm.runs.length) {
          s.append(svg("text", { x: m.l + 4, y: cy + 4, "font-size": 10, fill: "#777" }, arm.why || "no finished run"));
        }
        arm.runs.forEach((run, j) => {
          const dot = svg("circle", { cx: x(run.test_accuracy), cy: cy + (j - (arm.runs.length - 1) / 2) * 4,
            r: 5, fill: COLOURS[j % COLOURS.length], stroke: "#fff", tabindex: 0, role: "button",
            class: "cx-dot", "data-arm": arm.label, "data-seed": run.seed,
            "aria-label": `${arm.label}, seed ${run.seed}: ${pct(run.test_accuracy)} %` });
          dot.append(svg("title", {}, `${arm.label}, seed ${run.seed}: ${pct(run.test_accuracy)} %`));
          const show = () => showCurve(arm.label, run);
          ["mouseenter", "focus", "click"].forEach(ev => dot.addEventListener(ev, show));
          dot.addEventListener("keydown", e => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); show(); } });
          s.append(dot);
          if (!first) first = show;
        });
      });
      plot.replaceChildren(s);
      const head = el("thead", {}, el("tr", {}, ...["arm", "seed", "test accuracy %", "epochs", "run key"].map(
        t => el("th", { text: t }))));
      const body = el("tbody");
      arms.forEach(arm => arm.runs.forEach(run => body.append(el("tr", { "data-key": run.key },
        el("td", { text: arm.label }), el("td", { text: String(run.seed) }),
        el("td", { "data-value": String(run.test_accuracy), text: pct(run.test_accuracy) }),
        el("td", { text: String(run.history.loss ? run.history.loss.length : "") }),
        el("td", { text: run.key.slice(0, 12) })))));
      table.replaceChildren(el("caption", { text: `${study.name}: every finished run` }), head, body);
      if (first) first();
    }
    choose.addEventListener("change", render);
    render();
    root.dataset.ready = "true";
  }

  window.convlabExplorer = {
    scan() {
      document.querySelectorAll(".convlab-explorer:not([data-ready])").forEach(root => Explorer(root));
    },
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => window.convlabExplorer.scan());
  else window.convlabExplorer.scan();
})();
