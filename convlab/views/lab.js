/* The convolution lab: a convolution, and optionally a pooling, computed in the reader's
 * browser from the page's own data. A second implementation of convlab.conv (conv2d,
 * output_size_for, same_padding, receptive_field) and convlab.pool (pool2d, "valid"),
 * tested against them by tests/test_lab_browser.py. No library, no network.
 *
 * Each <div class="convlab-lab"> holds a <script type="application/json"> with
 * {images: [{label, pixels (0-255, rows)}], filters: [{label, weights (rows)}], draw}.
 */
(function () {
  "use strict";
  if (window.convlabLab) { window.convlabLab.scan(); return; }

  // ---------------------------------------------------------------- arithmetic
  function samePadding(n, k, s) {  // convlab.conv.same_padding: odd extra zero after
    const out = Math.ceil(n / s);
    const total = Math.max((out - 1) * s + k - n, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  }
  function padding(n, k, s, mode, p) {  // zeros [before, after] along one axis
    if (mode === "same") return samePadding(n, k, s);
    if (mode === "explicit") return [p, p];
    return [0, 0];
  }
  function outSize(n, k, before, after, s) { return Math.floor((n + before + after - k) / s) + 1; }

  function conv2d(x, w, s, pad) {  // x: rows of numbers, w: k x k, pad: [top, bottom, left, right]
    const h = x.length, wd = x[0].length, k = w.length;
    const ho = outSize(h, k, pad[0], pad[1], s), wo = outSize(wd, k, pad[2], pad[3], s);
    const y = [];
    for (let i = 0; i < ho; i++) {
      const row = [];
      for (let j = 0; j < wo; j++) {
        let sum = 0;
        for (let u = 0; u < k; u++) {
          const r = i * s + u - pad[0];
          if (r < 0 || r >= h) continue;
          for (let v = 0; v < k; v++) {
            const c = j * s + v - pad[2];
            if (c >= 0 && c < wd) sum += x[r][c] * w[u][v];
          }
        }
        row.push(sum);
      }
      y.push(row);
    }
    return y;
  }

  function pool2d(x, k, s, mode) {  // "valid" windows, as keras.layers.*Pooling2D
    const ho = outSize(x.length, k, 0, 0, s), wo = outSize(x[0].length, k, 0, 0, s);
    const y = [];
    for (let i = 0; i < ho; i++) {
      const row = [];
      for (let j = 0; j < wo; j++) {
        let acc = mode === "max" ? -Infinity : 0;
        for (let u = 0; u < k; u++) {
          for (let v = 0; v < k; v++) {
            const value = x[i * s + u][j * s + v];
            acc = mode === "max" ? Math.max(acc, value) : acc + value;
          }
        }
        row.push(mode === "max" ? acc : acc / (k * k));
      }
      y.push(row);
    }
    return y;
  }

  function receptiveField(layers) {  // convlab.conv.receptive_field: r += (k - 1) j; j *= s
    let r = 1, j = 1;
    return layers.map(([k, s]) => { r += (k - 1) * j; j *= s; return r; });
  }

  // ---------------------------------------------------------------- kernels
  function preset(name, k) {
    const w = Array.from({ length: k }, () => new Array(k).fill(0));
    const c = Math.floor((k - 1) / 2);
    if (name === "identity") w[c][c] = 1;
    else if (name === "blur") w.forEach(row => row.fill(1 / (k * k)));
    else if (name === "sharpen") {
      w.forEach(row => row.fill(-1 / (k * k)));
      w[c][c] += 2;
    } else if (name === "vertical edge" || name === "horizontal edge") {
      if (k < 2) return null;
      for (let u = 0; u < k; u++) {
        if (name === "vertical edge") { w[u][0] = -1; w[u][k - 1] = 1; }
        else { w[0][u] = -1; w[k - 1][u] = 1; }
      }
    }
    return w;
  }
  const PRESETS = ["identity", "vertical edge", "horizontal edge", "blur", "sharpen"];

  // ---------------------------------------------------------------- formatting
  const fmt = v => (Math.abs(v) < 5e-3 ? 0 : v).toFixed(2);
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") e.textContent = value; else e.setAttribute(key, value);
    }
    children.forEach(ch => e.append(ch));
    return e;
  }
  function labelled(id, text, control) {
    control.id = id;
    return el("div", { class: "cl-field" }, el("label", { for: id, text }), control);
  }
  function number(name, min, max, value) {
    return el("input", { type: "number", name, min, max, step: 1, value });
  }
  function select(name, options, value) {
    const s = el("select", { name });
    options.forEach(([v, t]) => s.append(el("option", { value: v, text: t })));
    s.value = value;
    return s;
  }

  // ---------------------------------------------------------------- drawing
  function draw(canvas, values, opts) {
    // values: rows; opts: {scale, signed, pad: [t, b, l, r], box: [r0, c0, size] in cells}
    const pad = opts.pad || [0, 0, 0, 0];
    const h = values.length + pad[0] + pad[1], w = values[0].length + pad[2] + pad[3];
    const cell = Math.max(2, Math.min(36, Math.floor(opts.size / Math.max(h, w))));
    canvas.width = w * cell; canvas.height = h * cell;
    const ctx = canvas.getContext("2d");
    let m = 0;
    values.forEach(row => row.forEach(v => { m = Math.max(m, Math.abs(v)); }));
    m = m || 1;
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const r = i - pad[0], c = j - pad[2];
        if (r < 0 || c < 0 || r >= values.length || c >= values[0].length) {
          ctx.fillStyle = "#f3e6c4";  // padding: zeros added around the input
        } else if (opts.signed) {
          const t = values[r][c] / m;  // red positive, blue negative, white zero
          const a = Math.round(255 * (1 - Math.abs(t)));
          ctx.fillStyle = t >= 0 ? `rgb(255,${a},${a})` : `rgb(${a},${a},255)`;
        } else {
          const g = Math.round(255 * Math.min(1, Math.max(0, values[r][c])));
          ctx.fillStyle = `rgb(${g},${g},${g})`;
        }
        ctx.fillRect(j * cell, i * cell, cell, cell);
      }
    }
    if (opts.box) {
      const [r0, c0, kh, kw] = opts.box;
      ctx.strokeStyle = "#ff8c00"; ctx.lineWidth = 2;
      ctx.strokeRect(c0 * cell + 1, r0 * cell + 1, kw * cell - 2, kh * cell - 2);
    }
    canvas.dataset.cell = cell;
  }

  // ---------------------------------------------------------------- one lab
  function Lab(root) {
    const data = JSON.parse(root.querySelector("script.convlab-lab-data").textContent);
    const uid = "cl" + Math.random().toString(36).slice(2, 8);
    const size = data.draw || 10;
    const drawing = Array.from({ length: size }, (_, i) =>
      Array.from({ length: size }, (_, j) => (i === 2 || j === Math.floor(size / 2)) && i >= 2 && i < size - 2 ? 1 : 0));
    let kernel = preset("vertical edge", 3);
    let selected = [0, 0], pooledSelected = null, kernelProblem = "";

    const images = data.images.map((im, i) => [String(i), im.label]).concat([["draw", "your drawing"]]);
    const presets = PRESETS.map(p => [p, p]).concat(
      data.filters.map((f, i) => ["filter" + i, f.label]), [["custom", "custom (edit the grid)"]]);
    const c = {
      image: select("image", images, "0"),
      preset: select("preset", presets, "vertical edge"),
      k: number("k", 1, 7, 3),
      stride: number("stride", 1, 3, 1),
      padding: select("padding", [["valid", "valid (none)"], ["same", "same"], ["explicit", "explicit p"]], "valid"),
      p: number("p", 0, 3, 1),
      pool: select("pool", [["none", "none"], ["max", "max"], ["average", "average"]], "none"),
      poolSize: number("pool-size", 1, 3, 2),
      poolStride: number("pool-stride", 1, 3, 2),
      cin: number("channels-in", 1, 512, 1),
      fout: number("filters-out", 1, 512, 32),
      layers: number("layers", 1, 4, 2),
    };
    const controls = el("div", { class: "cl-controls" },
      labelled(uid + "-image", "Input image", c.image),
      labelled(uid + "-preset", "Kernel", c.preset),
      labelled(uid + "-k", "Kernel size k (1-7)", c.k),
      labelled(uid + "-stride", "Stride s (1-3)", c.stride),
      labelled(uid + "-padding", "Padding", c.padding),
      labelled(uid + "-p", "Explicit padding p (0-3)", c.p),
      labelled(uid + "-pool", "Pooling after it", c.pool),
      labelled(uid + "-pool-size", "Pool size (1-3)", c.poolSize),
      labelled(uid + "-pool-stride", "Pool stride (1-3)", c.poolStride),
      labelled(uid + "-cin", "Input channels C", c.cin),
      labelled(uid + "-fout", "Filters F", c.fout),
      labelled(uid + "-layers", "Layers in a stack (1-4)", c.layers));
    const message = el("p", { class: "cl-message", role: "alert" });
    const grid = el("div", { class: "cl-draw", role: "group", "aria-label": "Drawing: each button is a pixel" });
    const kernelGrid = el("div", { class: "cl-kernel", role: "group", "aria-label": "Kernel weights" });
    const inputCanvas = el("canvas", { class: "cl-input", role: "img", "aria-label": "input with padding" });
    const outCanvas = el("canvas", { class: "cl-output", tabindex: 0, role: "img",
      "aria-label": "feature map: arrow keys move the selected output pixel" });
    const poolCanvas = el("canvas", { class: "cl-pooled", tabindex: 0, role: "img",
      "aria-label": "pooled map: arrow keys move the selected pixel" });
    const facts = el("div", { class: "cl-facts", "aria-live": "polite" });
    const dot = el("div", { class: "cl-dot", "aria-live": "polite" });
    const convTable = el("table", { class: "cl-values cl-conv-values" });
    const poolTable = el("table", { class: "cl-values cl-pool-values" });
    const panels = el("div", { class: "cl-panels" },
      el("figure", {}, inputCanvas, el("figcaption", { text: "Input (padding shaded)" })),
      el("figure", {}, kernelGrid, el("figcaption", { text: "Kernel" })),
      el("figure", {}, outCanvas, el("figcaption", { text: "Feature map (red +, blue -)" })),
      el("figure", { class: "cl-pool-figure" }, poolCanvas, el("figcaption", { text: "After pooling" })));
    const numbers = el("details", { class: "cl-numbers" }, el("summary", { text: "The output's numbers" }),
      convTable, poolTable);
    root.append(controls, grid, message, panels, facts, dot, numbers);

    function int(input) {
      const v = Number(input.value);
      const ok = input.value !== "" && Number.isInteger(v) && v >= Number(input.min) && v <= Number(input.max);
      return ok ? v : null;
    }
    function image() {
      if (c.image.value === "draw") return drawing;
      return data.images[Number(c.image.value)].pixels.map(row => row.map(v => v / 255));
    }
    function buildDrawGrid() {
      grid.replaceChildren();
      grid.style.gridTemplateColumns = `repeat(${size}, 1.1em)`;
      drawing.forEach((row, i) => row.forEach((v, j) => {
        const b = el("button", { type: "button", "aria-pressed": v ? "true" : "false",
          "aria-label": `pixel row ${i + 1}, column ${j + 1}` });
        b.addEventListener("click", () => {
          drawing[i][j] = drawing[i][j] ? 0 : 1;
          b.setAttribute("aria-pressed", drawing[i][j] ? "true" : "false");
          update();
        });
        grid.append(b);
      }));
      grid.hidden = c.image.value !== "draw";
    }
    function buildKernelGrid() {
      kernelGrid.replaceChildren();
      kernelGrid.style.gridTemplateColumns = `repeat(${kernel.length}, 5.2em)`;
      kernel.forEach((row, u) => row.forEach((v, w) => {
        const input = el("input", { type: "number", step: "0.1", value: String(+v.toFixed(4)),
          "aria-label": `weight row ${u + 1}, column ${w + 1}`, name: `w-${u}-${w}` });
        input.addEventListener("input", () => {
          const x = Number(input.value);
          if (input.value === "" || !Number.isFinite(x)) return fail("A kernel weight must be a number.");
          kernel[u][w] = x;
          c.preset.value = "custom";
          update();
        });
        kernelGrid.append(input);
      }));
    }
    function setKernel() {
      const k = int(c.k);
      if (k === null) return fail("The kernel size must be a whole number from 1 to 7.");
      const name = c.preset.value;
      if (name.startsWith("filter")) {
        kernel = data.filters[Number(name.slice(6))].weights.map(row => row.slice());
        c.k.value = kernel.length;
      } else if (name !== "custom") {
        const w = preset(name, k);
        if (!w) {
          kernelProblem = `A ${name} kernel needs at least 2 columns: choose k of 2 or more.`;
          return fail(kernelProblem);
        }
        kernel = w;
      } else if (kernel.length !== k) {
        kernel = Array.from({ length: k }, (_, u) => Array.from({ length: k }, (_, v) =>
          u < kernel.length && v < kernel.length ? kernel[u][v] : 0));
      }
      kernelProblem = "";
      buildKernelGrid();
      update();
    }
    function fail(text) {
      message.textContent = text;
      root.dataset.state = "refused";
      panels.hidden = true; facts.hidden = true; dot.hidden = true; numbers.hidden = true;
      return null;
    }
    function fill(table, y, caption) {
      table.replaceChildren(el("caption", { text: caption }));
      const body = el("tbody");
      y.forEach(row => {
        const tr = el("tr");
        row.forEach(v => tr.append(el("td", { "data-value": String(v), text: fmt(v) })));
        body.append(tr);
      });
      table.append(body);
    }

    let state = null;
    function compute() {
      const k = int(c.k), s = int(c.stride), p = int(c.p);
      const ps = int(c.poolSize), pst = int(c.poolStride), cin = int(c.cin), f = int(c.fout);
      const layers = int(c.layers);
      if ([k, s, p, ps, pst, cin, f, layers].includes(null)) {
        return fail("Every setting must be a whole number in the range its label gives.");
      }
      if (kernel.length !== k) return fail(kernelProblem || "Choose a kernel of this size.");
      const x = image(), n = x.length, m = x[0].length, mode = c.padding.value;
      const [top, bottom] = padding(n, k, s, mode, p), [left, right] = padding(m, k, s, mode, p);
      if (k > n + top + bottom || k > m + left + right) {
        return fail(`The ${k}x${k} kernel is larger than the padded input ` +
          `(${n + top + bottom}x${m + left + right}): choose a smaller kernel, more padding or "same".`);
      }
      const pad = [top, bottom, left, right];
      const y = conv2d(x, kernel, s, pad);
      let pooled = null;
      if (c.pool.value !== "none") {
        if (ps > y.length || ps > y[0].length) {
          return fail(`The ${ps}x${ps} pool is larger than the ${y.length}x${y[0].length} feature map: choose a smaller pool.`);
        }
        pooled = pool2d(y, ps, pst, c.pool.value);
      }
      return { x, y, pooled, k, s, p, ps, pst, cin, f, layers, pad, mode, n, m };
    }

    function formula(st) {
      const { n, k, s, pad, mode, y } = st;
      if (mode === "same") {
        return `same: n_out = ceil(${n} / ${s}) = ${y.length} (zeros: ${pad[0]} before, ${pad[1]} after)`;
      }
      const p = mode === "explicit" ? st.p : 0;
      return `n_out = floor((${n} + 2·${p} − ${k}) / ${s}) + 1 = ${y.length}`;
    }

    function update() {
      state = compute();
      if (!state) return;
      message.textContent = "";
      root.dataset.state = "ok";
      panels.hidden = false; facts.hidden = false; dot.hidden = false; numbers.hidden = false;
      const st = state;
      selected = [Math.min(selected[0], st.y.length - 1), Math.min(selected[1], st.y[0].length - 1)];
      const stack = [];
      for (let l = 0; l < st.layers; l++) {
        stack.push([st.k, st.s]);
        if (st.pooled) stack.push([st.ps, st.pst]);
      }
      const rf = receptiveField(stack);
      const params = (st.k * st.k * st.cin + 1) * st.f;
      const sizeLine = el("p", { class: "cl-size", "data-rows": st.y.length, "data-cols": st.y[0].length,
        text: `Output ${st.y.length}x${st.y[0].length}: ${formula(st)}.` });
      const poolLine = st.pooled ? el("p", { class: "cl-pool-size", "data-rows": st.pooled.length,
        "data-cols": st.pooled[0].length,
        text: `After ${c.pool.value} pooling ${st.ps}x${st.ps}, stride ${st.pst}: ` +
          `${st.pooled.length}x${st.pooled[0].length} = floor((${st.y.length} − ${st.ps}) / ${st.pst}) + 1.` }) : "";
      const paramLine = el("p", { class: "cl-params", "data-params": params,
        text: `Parameters of a layer with C = ${st.cin} input channels and F = ${st.f} filters: ` +
          `(k·k·C + 1)·F = (${st.k}·${st.k}·${st.cin} + 1)·${st.f} = ${params.toLocaleString("en")}.` });
      const rfLine = el("p", { class: "cl-rf", "data-rf": rf.join(","),
        text: `Receptive field of a stack of ${st.layers} such layer${st.layers > 1 ? "s" : ""}` +
          `${st.pooled ? ", each followed by the pooling" : ""}: ${rf.join(" → ")} pixels.` });
      facts.replaceChildren(sizeLine, poolLine, paramLine, rfLine);
      fill(convTable, st.y, "Feature map");
      poolTable.hidden = !st.pooled;
      root.querySelector(".cl-pool-figure").hidden = !st.pooled;
      if (st.pooled) fill(poolTable, st.pooled, "After pooling");
      render();
    }

    function render() {
      const st = state;
      const [i, j] = selected;
      draw(inputCanvas, st.x, { size: 260, pad: st.pad, box: [i * st.s, j * st.s, st.k, st.k] });
      let box = [i, j, 1, 1];
      if (st.pooled && pooledSelected) {
        const [a, b] = pooledSelected;
        box = [a * st.pst, b * st.pst, st.ps, st.ps];
      }
      draw(outCanvas, st.y, { size: 260, signed: true, box });
      if (st.pooled) {
        const [a, b] = pooledSelected || [0, 0];
        draw(poolCanvas, st.pooled, { size: 160, signed: true, box: pooledSelected ? [a, b, 1, 1] : null });
      }
      explain();
    }

    function explain() {
      const st = state;
      if (st.pooled && pooledSelected) {
        const [a, b] = pooledSelected, vals = [];
        for (let u = 0; u < st.ps; u++) for (let v = 0; v < st.ps; v++) vals.push(st.y[a * st.pst + u][b * st.pst + v]);
        const name = c.pool.value === "max" ? "max" : "mean";
        dot.replaceChildren(el("p", { text: `pooled[${a}, ${b}] = ${name}(${vals.map(fmt).join(", ")}) = ${fmt(st.pooled[a][b])}` }));
        return;
      }
      const [i, j] = selected;
      const table = el("table", { class: "cl-terms" });
      const body = el("tbody");
      for (let u = 0; u < st.k; u++) {
        const tr = el("tr");
        for (let v = 0; v < st.k; v++) {
          const r = i * st.s + u - st.pad[0], q = j * st.s + v - st.pad[2];
          const xv = r >= 0 && r < st.n && q >= 0 && q < st.m ? st.x[r][q] : 0;
          tr.append(el("td", { text: `${fmt(xv)} × ${fmt(kernel[u][v])}` }));
        }
        body.append(tr);
      }
      table.append(body);
      dot.replaceChildren(
        el("p", { text: `y[${i}, ${j}] = the sum of input × weight over the highlighted window ` +
          `(rows ${i * st.s - st.pad[0]} to ${i * st.s - st.pad[0] + st.k - 1} of the input, ` +
          `negative or past the edge = padding) = ${fmt(st.y[i][j])}` }), table);
    }

    function pick(canvas, rows, cols, event) {
      const cell = Number(canvas.dataset.cell), rect = canvas.getBoundingClientRect();
      const scale = canvas.width / rect.width;
      const j = Math.floor((event.clientX - rect.left) * scale / cell), i = Math.floor((event.clientY - rect.top) * scale / cell);
      return i >= 0 && j >= 0 && i < rows && j < cols ? [i, j] : null;
    }
    outCanvas.addEventListener("mousemove", e => {
      if (!state) return;
      const at = pick(outCanvas, state.y.length, state.y[0].length, e);
      if (at) { selected = at; pooledSelected = null; render(); }
    });
    poolCanvas.addEventListener("mousemove", e => {
      if (!state || !state.pooled) return;
      const at = pick(poolCanvas, state.pooled.length, state.pooled[0].length, e);
      if (at) { pooledSelected = at; render(); }
    });
    function keys(pooled) {
      return e => {
        const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
        if (!state || !moves[e.key]) return;
        e.preventDefault();
        const map = pooled ? state.pooled : state.y;
        const cur = pooled ? (pooledSelected || [0, 0]) : selected;
        const next = [Math.max(0, Math.min(map.length - 1, cur[0] + moves[e.key][0])),
          Math.max(0, Math.min(map[0].length - 1, cur[1] + moves[e.key][1]))];
        if (pooled) pooledSelected = next; else { selected = next; pooledSelected = null; }
        render();
      };
    }
    outCanvas.addEventListener("keydown", keys(false));
    poolCanvas.addEventListener("keydown", keys(true));
    poolCanvas.addEventListener("focus", () => { if (state && state.pooled && !pooledSelected) { pooledSelected = [0, 0]; render(); } });

    c.image.addEventListener("change", () => { grid.hidden = c.image.value !== "draw"; update(); });
    c.preset.addEventListener("change", setKernel);
    c.k.addEventListener("input", () => {
      // A learned filter has its own size: another size edits a copy of it.
      if (c.preset.value.startsWith("filter") && int(c.k) !== kernel.length) c.preset.value = "custom";
      setKernel();
    });
    [c.stride, c.padding, c.p, c.pool, c.poolSize, c.poolStride, c.cin, c.fout, c.layers].forEach(
      input => input.addEventListener(input.tagName === "SELECT" ? "change" : "input", update));
    buildDrawGrid();
    buildKernelGrid();
    update();
    root.dataset.ready = "true";
  }

  window.convlabLab = {
    conv2d, pool2d, receptiveField, samePadding, preset,
    scan() {
      document.querySelectorAll(".convlab-lab:not([data-ready])").forEach(root => {
        try { Lab(root); } catch (err) {
          root.dataset.state = "broken";
          root.append(el("p", { class: "cl-message", role: "alert", text: `The lab failed to start: ${err}` }));
          throw err;
        }
      });
    },
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => window.convlabLab.scan());
  else window.convlabLab.scan();
})();
