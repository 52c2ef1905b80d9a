// The book's live explorers in the reader's browser: no kernel, nothing loaded from elsewhere.
//
// One implementation for the three explorers of adam_course (playground.py, hump.py,
// moments.py). Python builds each explorer's figure with matplotlib (the background: axes,
// contours, labels, legends, as a PNG) and describes it in a JSON block inside the explorer's
// <div class="adam-explorer">; this script computes the optimizers, landscapes and gradients in
// double precision, as adam_course does (same operations in the same order), and draws the
// changing lines on a canvas over the background. Random draws (the hump's noise, the moments'
// stream) are numpy's, made at build time and shipped in the JSON. tests/site/check_site.py
// compares these numbers with adam_course's.
//
// window.AdamCourse.numerics is that arithmetic (for the check); AdamCourse.mountAll() mounts
// every explorer of the page not mounted yet. Each knob is a native, labelled control; the
// settings of the last explorer moved are kept in the URL's hash (#ID?key=value&...), which
// also sets an explorer when the page opens or the hash changes.
(function () {
  "use strict";
  if (window.AdamCourse) {
    window.AdamCourse.mountAll();
    return;
  }

  // --- exact arithmetic helpers -------------------------------------------------------------

  // numpy's pow (glibc's) is correctly rounded where V8's Math.pow is not (1 in 10 cubes differ
  // in the last bit). Integer powers are computed here in double-double and rounded once.
  // (No arrays: a move computes thousands of these, and garbage collection would show.)
  const SPLIT = 134217729; // 2^27 + 1
  let lo = 0; // the low part of the last twoProd / ddMul
  function twoProd(a, b) { // a * b = return value + lo, exactly (Dekker)
    const p = a * b;
    let c = SPLIT * a;
    const ah = c - (c - a), al = a - ah;
    c = SPLIT * b;
    const bh = c - (c - b), bl = b - bh;
    lo = ah * bh - p + ah * bl + al * bh + al * bl;
    return p;
  }
  function ddMul(h1, l1, h2, l2) {
    const p = twoProd(h1, h2);
    const t = lo + (h1 * l2 + l1 * h2);
    const s = p + t;
    lo = t - (s - p);
    return s;
  }
  function ipow(x, n) { // x ** n for an integer n >= 0, as C's pow
    if (!isFinite(x) || Math.abs(x) > 1e150 || Math.abs(x) < 1e-150) return Math.pow(x, n);
    let rh = 1, rl = 0, bh = x, bl = 0;
    while (n > 0) {
      if (n & 1) { rh = ddMul(rh, rl, bh, bl); rl = lo; }
      n = Math.floor(n / 2);
      if (n) { bh = ddMul(bh, bl, bh, bl); bl = lo; }
    }
    return rh + rl;
  }
  function cube(x) {
    if (!isFinite(x) || Math.abs(x) > 1e100) return x * x * x;
    const h = twoProd(x, x), l = lo;
    const p = twoProd(h, x);
    return p + (lo + l * x);
  }

  function decode(base64) { // little-endian float64, as numpy's tobytes()
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return new Float64Array(bytes.buffer);
  }

  // --- landscapes (adam_course.landscapes) ----------------------------------------------------

  function landscape(spec) {
    const k = spec.kind;
    if (k === "bowl") {
      const [[a00, a01], [a10, a11]] = spec.A;
      return {
        grad: (x, g) => { g[0] = x[0] * a00 + x[1] * a10; g[1] = x[0] * a01 + x[1] * a11; },
        f: (x) => 0.5 * (x[0] * (a00 * x[0] + a01 * x[1]) + x[1] * (a10 * x[0] + a11 * x[1])),
      };
    }
    if (k === "rosenbrock") {
      const a = spec.a, b = spec.b;
      return {
        grad: (p, g) => {
          const x = p[0], y = p[1], d = y - x * x;
          g[0] = -2 * (a - x) - 4 * b * x * d;
          g[1] = 2 * b * d;
        },
        f: (p) => (a - p[0]) ** 2 + b * (p[1] - p[0] * p[0]) ** 2,
      };
    }
    if (k === "beale") {
      const c1 = 1.5, c2 = 2.25, c3 = 2.625;
      return {
        grad: (p, g) => {
          const x = p[0], y = p[1], y2 = y * y, y3 = cube(y);
          const r1 = c1 - x + x * y, r2 = c2 - x + x * y2, r3 = c3 - x + x * y3;
          g[0] = 2 * r1 * (y - 1) + 2 * r2 * (y2 - 1) + 2 * r3 * (y3 - 1);
          g[1] = 2 * r1 * x * 1 * 1 + 2 * r2 * x * 2 * y + 2 * r3 * x * 3 * y2;
        },
        f: (p) => {
          let s = 0;
          for (let i = 0; i < 3; i++) { const r = [c1, c2, c3][i] - p[0] + p[0] * p[1] ** (i + 1); s += r * r; }
          return s;
        },
      };
    }
    if (k === "saddle") {
      return {
        grad: (p, g) => { g[0] = p[0]; g[1] = -p[1] + cube(p[1]); },
        f: (p) => (p[0] * p[0]) / 2 - (p[1] * p[1]) / 2 + (p[1] * p[1] * p[1] * p[1]) / 4,
      };
    }
    if (k === "hump") { // one coordinate per run
      const tilt = spec.tilt;
      return {
        grad: (x, g) => { for (let i = 0; i < x.length; i++) g[i] = 4 * cube(x[i]) - 4 * x[i] - tilt; },
        f: (x) => (x[0] * x[0] - 1) * (x[0] * x[0] - 1) - tilt * x[0],
      };
    }
    throw new Error("unknown landscape " + k);
  }

  // --- optimizers (adam_course.optim, torch's arguments and defaults) -------------------------
  //
  // Each works coordinate by coordinate on a Float64Array, in place, with the operations of
  // the numpy update in the same order. build(factory, hyper) -> {init(n), step(x, g, s)}.

  const DEFAULTS = {
    sgd: { momentum: 0, dampening: 0, weight_decay: 0, nesterov: false },
    adagrad: { lr_decay: 0, weight_decay: 0, initial_accumulator_value: 0, eps: 1e-10 },
    rmsprop: { alpha: 0.99, eps: 1e-8, weight_decay: 0, momentum: 0 },
    adam: { betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false },
    adamw: { betas: [0.9, 0.999], eps: 1e-8, weight_decay: 1e-2, amsgrad: false },
    adamax: { betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0 },
    nadam: { betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, momentum_decay: 4e-3 },
    lion: { betas: [0.9, 0.99], weight_decay: 0 },
  };
  const DECOUPLED = { adamw: true, lion: true }; // weight_decay taken by the update itself

  function build(factory, hyper) {
    if (!(factory in DEFAULTS)) throw new Error("unknown optimizer " + factory);
    const h = Object.assign({}, DEFAULTS[factory], hyper);
    const lr = h.lr, wd = h.weight_decay;
    const l2 = !DECOUPLED[factory] && wd !== 0;
    const zeros = (n) => new Float64Array(n);
    let init, update;
    if (factory === "sgd") {
      const mom = h.momentum, damp = h.dampening, nest = h.nesterov;
      if (nest && (mom <= 0 || damp !== 0)) {
        throw new RangeError("Nesterov needs a momentum > 0 (and no dampening)");
      }
      init = (n) => ({ t: 0, b: mom !== 0 ? zeros(n) : null });
      update = (x, g, s) => {
        const b = s.b;
        for (let i = 0; i < x.length; i++) {
          let d = g[i];
          if (b) {
            if (s.t === 0) b[i] = g[i];
            else b[i] = damp === 0 ? b[i] * mom + g[i] : b[i] * mom + (1 - damp) * g[i];
            d = nest ? g[i] + mom * b[i] : b[i];
          }
          x[i] = x[i] - d * lr;
        }
      };
    } else if (factory === "adagrad") {
      const s0 = h.initial_accumulator_value, eps = h.eps, decay = h.lr_decay;
      init = (n) => ({ t: 0, sum: zeros(n).fill(0 + s0) });
      update = (x, g, s) => {
        const lrt = lr / (1 + (s.t) * decay); // s.t is t - 1 here
        for (let i = 0; i < x.length; i++) {
          s.sum[i] = g[i] * g[i] + s.sum[i];
          x[i] = x[i] - (g[i] / (Math.sqrt(s.sum[i]) + eps)) * lrt;
        }
      };
    } else if (factory === "rmsprop") {
      const alpha = h.alpha, eps = h.eps, mom = h.momentum;
      init = (n) => ({ t: 0, v: zeros(n), b: mom !== 0 ? zeros(n) : null });
      update = (x, g, s) => {
        for (let i = 0; i < x.length; i++) {
          s.v[i] = alpha * s.v[i] + (1 - alpha) * (g[i] * g[i]);
          let step = g[i] / (Math.sqrt(s.v[i]) + eps);
          if (s.b) { s.b[i] = s.b[i] * mom + step; step = s.b[i] * lr; } else step = step * lr;
          x[i] = x[i] - step;
        }
      };
    } else if (factory === "adam" || factory === "adamw") {
      const [b1, b2] = h.betas, eps = h.eps, ams = h.amsgrad;
      const decay = factory === "adamw" ? 1 - lr * wd : 1;
      init = (n) => ({ t: 0, m: zeros(n), v: zeros(n), vmax: ams ? zeros(n) : null });
      update = (x, g, s) => {
        const t = s.t + 1, bc1 = 1 - ipow(b1, t), bc2 = 1 - ipow(b2, t);
        for (let i = 0; i < x.length; i++) {
          const p = factory === "adamw" ? x[i] * decay : x[i];
          s.m[i] = b1 * s.m[i] + (1 - b1) * g[i];
          s.v[i] = b2 * s.v[i] + (1 - b2) * (g[i] * g[i]);
          let v = s.v[i];
          if (ams) { s.vmax[i] = maximum(s.vmax[i], v); v = s.vmax[i]; }
          const mhat = s.m[i] / bc1, vhat = v / bc2;
          x[i] = p - (lr * mhat) / (Math.sqrt(vhat) + eps);
        }
      };
    } else if (factory === "adamax") {
      const [b1, b2] = h.betas, eps = h.eps;
      init = (n) => ({ t: 0, m: zeros(n), u: zeros(n) });
      update = (x, g, s) => {
        const scale = lr / (1 - ipow(b1, s.t + 1));
        for (let i = 0; i < x.length; i++) {
          s.m[i] = b1 * s.m[i] + (1 - b1) * g[i];
          s.u[i] = maximum(b2 * s.u[i], Math.abs(g[i]) + eps);
          x[i] = x[i] - (s.m[i] / s.u[i]) * scale;
        }
      };
    } else if (factory === "nadam") {
      const [b1, b2] = h.betas, eps = h.eps, psi = h.momentum_decay;
      init = (n) => ({ t: 0, m: zeros(n), v: zeros(n), mu: 1 });
      update = (x, g, s) => {
        const t = s.t + 1;
        const mu = b1 * (1 - 0.5 * Math.pow(0.96, t * psi));
        const muNext = b1 * (1 - 0.5 * Math.pow(0.96, (t + 1) * psi));
        s.mu = s.mu * mu;
        const c1 = (lr * (1 - mu)) / (1 - s.mu), c2 = (lr * muNext) / (1 - s.mu * muNext);
        const bc2 = 1 - ipow(b2, t);
        for (let i = 0; i < x.length; i++) {
          s.m[i] = b1 * s.m[i] + (1 - b1) * g[i];
          s.v[i] = b2 * s.v[i] + (1 - b2) * (g[i] * g[i]);
          const d = Math.sqrt(s.v[i] / bc2) + eps;
          x[i] = x[i] - (c1 * g[i]) / d - (c2 * s.m[i]) / d;
        }
      };
    } else { // lion
      const [b1, b2] = h.betas;
      init = (n) => ({ t: 0, m: zeros(n) });
      update = (x, g, s) => {
        for (let i = 0; i < x.length; i++) {
          const c = b1 * s.m[i] + (1 - b1) * g[i];
          let step = Math.sign(c) + c * 0;
          if (wd !== 0) step = step + wd * x[i];
          s.m[i] = b2 * s.m[i] + (1 - b2) * g[i];
          x[i] = x[i] - step * lr;
        }
      };
    }
    return {
      init: init,
      step: (x, g, s) => {
        if (l2) for (let i = 0; i < x.length; i++) g[i] = g[i] + wd * x[i];
        update(x, g, s);
        s.t += 1;
      },
    };
  }
  function maximum(a, b) { return a !== a || b !== b ? NaN : Math.max(a, b); } // np.maximum

  // An optimizer of the catalog (adam_course.catalog.Entry.build): entry {factory, presets,
  // knobs} with the explorer's knobs {lr, beta1, beta2, eps}.
  function fromCatalog(entry, knobs) {
    const hyper = Object.assign({}, entry.presets, { lr: knobs.lr });
    const betas = {};
    for (const [knob, argument] of Object.entries(entry.knobs)) {
      if (argument.startsWith("betas[")) betas[+argument[6]] = knobs[knob];
      else hyper[argument] = knobs[knob];
    }
    if (Object.keys(betas).length) hyper.betas = [0 in betas ? betas[0] : 0.9, 1 in betas ? betas[1] : 0.999];
    return build(entry.factory, hyper);
  }

  // picture.run / optim.minimize(..., divergence_threshold): `runs` runs of `dim` coordinates
  // each (x0 holds them one after the other); a run whose |x| passes `threshold` or stops
  // being finite (or whose gradient does) is recorded as NaN from then on. grad(x, g, k) fills
  // g at step k (0-based). Returns a Float64Array of (steps + 1) * x0.length.
  function run(opt, grad, x0, steps, threshold, dim) {
    const n = x0.length, runs = n / dim;
    const out = new Float64Array((steps + 1) * n);
    const x = Float64Array.from(x0), g = new Float64Array(n), alive = new Uint8Array(runs);
    const healthy = (r) => {
      for (let i = r * dim; i < (r + 1) * dim; i++) if (!(Math.abs(x[i]) <= threshold)) return 0;
      return 1;
    };
    for (let r = 0; r < runs; r++) alive[r] = healthy(r);
    const state = opt.init(n);
    for (let i = 0; i < n; i++) out[i] = alive[Math.floor(i / dim)] ? x[i] : NaN;
    for (let k = 0; k < steps; k++) {
      grad(x, g, k);
      for (let r = 0; r < runs; r++) {
        for (let i = r * dim; i < (r + 1) * dim; i++) if (!isFinite(g[i])) alive[r] = 0;
        if (!alive[r]) for (let i = r * dim; i < (r + 1) * dim; i++) { g[i] = 0; x[i] = x0[i]; }
      }
      opt.step(x, g, state);
      const row = (k + 1) * n;
      for (let r = 0; r < runs; r++) {
        if (alive[r]) alive[r] = healthy(r);
        for (let i = r * dim; i < (r + 1) * dim; i++) {
          out[row + i] = alive[r] ? x[i] : NaN;
          if (!alive[r]) x[i] = x0[i];
        }
      }
    }
    return out;
  }

  // The playground's trajectory: shape (steps + 1) * 2.
  function trajectory(landscapeSpec, entry, knobs, steps, start, threshold) {
    const ls = landscape(landscapeSpec);
    return run(fromCatalog(entry, knobs), (x, g) => ls.grad(x, g), start, steps, threshold, 2);
  }

  // hump.sgd_runs: `runs` runs of SGD on the noisy hump; z holds numpy's standard normals in
  // the order landscapes.stochastic draws them (runs per step). Shape (steps + 1) * runs.
  function humpRuns(spec, z, lr, noise, momentum, steps, runs) {
    const ls = landscape({ kind: "hump", tilt: spec.tilt });
    const grad = (x, g, k) => {
      ls.grad(x, g);
      for (let r = 0; r < runs; r++) g[r] = g[r] + noise * z[k * runs + r];
    };
    const x0 = new Float64Array(runs).fill(spec.start);
    return run(build("sgd", { lr: lr, momentum: momentum }), grad, x0, steps, spec.threshold, 1);
  }

  // moments.averages of the stream mu + sigma * z: rows m_t, m_hat_t, v_t, v_hat_t.
  function averages(z, mu, sigma, beta1, beta2) {
    const T = z.length, rows = [0, 1, 2, 3].map(() => new Float64Array(T));
    let m = 0, v = 0;
    for (let i = 0; i < T; i++) {
      const g = mu + sigma * z[i];
      m = beta1 * m + (1 - beta1) * g;
      v = beta2 * v + (1 - beta2) * (g * g);
      rows[0][i] = m; rows[2][i] = v;
      rows[1][i] = m / (1 - ipow(beta1, i + 1));
      rows[3][i] = v / (1 - ipow(beta2, i + 1));
    }
    return rows;
  }

  // --- how the book writes numbers ------------------------------------------------------------

  // picture.readout: the shortest text that reads back as the same float; positional from 1e-3
  // to 1e5, else scientific with the shortest exponent (1e-8, 2.5e-5).
  function readout(v) {
    if (v === 0 || (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5)) return String(v);
    return v.toExponential();
  }
  // Python's f"{v:.3g}"
  function g3(v) {
    if (!isFinite(v)) return String(v);
    if (v === 0) return "0";
    const exp = Math.floor(Math.log10(Math.abs(Number(v.toPrecision(3)))));
    if (exp < -4 || exp >= 3) {
      let [mant, e] = v.toExponential(2).split("e");
      mant = mant.replace(/\.?0+$/, "");
      const n = parseInt(e, 10);
      return mant + "e" + (n < 0 ? "-" : "+") + String(Math.abs(n)).padStart(2, "0");
    }
    return String(Number(v.toPrecision(3)));
  }

  // --- drawing on the figure --------------------------------------------------------------------

  // An axes box of the matplotlib background: {left, top, width, height} in figure px, xlim,
  // ylim, xscale. Maps data to figure px.
  function mapper(ax) {
    const log = (v) => Math.log10(v);
    const fx = ax.xscale === "log" ? log : (v) => v, fy = ax.yscale === "log" ? log : (v) => v;
    const [x0, x1] = ax.xlim.map(fx), [y0, y1] = ax.ylim.map(fy);
    return {
      x: (v) => ax.left + ((fx(v) - x0) / (x1 - x0)) * ax.width,
      y: (v) => ax.top + ax.height - ((fy(v) - y0) / (y1 - y0)) * ax.height,
      invert: (px, py) => [x0 + ((px - ax.left) / ax.width) * (x1 - x0),
                           y0 + ((ax.top + ax.height - py) / ax.height) * (y1 - y0)],
      clip: (ctx) => { ctx.beginPath(); ctx.rect(ax.left, ax.top, ax.width, ax.height); ctx.clip(); },
    };
  }

  // A line's look, exported from matplotlib (web.line_style): color, width and dashes in
  // points, marker (polygon in points, or "circle"), marker size, face, edge and edge width.
  function strokeLine(ctx, xs, ys, st, pt) {
    if (!xs.length) return;
    ctx.save();
    ctx.lineJoin = st.join || "round";
    ctx.lineCap = "butt";
    ctx.globalAlpha = st.alpha == null ? 1 : st.alpha;
    const path = () => {
      ctx.beginPath();
      let pen = false;
      for (let i = 0; i < xs.length; i++) {
        if (!isFinite(xs[i]) || !isFinite(ys[i])) { pen = false; continue; }
        if (pen) ctx.lineTo(xs[i], ys[i]); else ctx.moveTo(xs[i], ys[i]);
        pen = true;
      }
    };
    if (st.outline) {
      ctx.setLineDash([]);
      ctx.strokeStyle = st.outline.color;
      ctx.lineWidth = st.outline.width * pt;
      path(); ctx.stroke();
    }
    ctx.strokeStyle = st.color;
    ctx.lineWidth = st.width * pt;
    ctx.setLineDash((st.dashes || []).map((d) => d * pt));
    path(); ctx.stroke();
    ctx.restore();
  }
  function drawMarkers(ctx, xs, ys, st, pt, every) {
    if (!st.marker) return;
    ctx.save();
    ctx.globalAlpha = st.alpha == null ? 1 : st.alpha;
    ctx.setLineDash([]);
    ctx.lineJoin = "miter";
    const size = st.markersize * pt;
    for (let i = 0; i < xs.length; i += every || 1) {
      if (!isFinite(xs[i]) || !isFinite(ys[i])) continue;
      ctx.beginPath();
      if (st.marker === "circle") ctx.arc(xs[i], ys[i], size / 2, 0, 2 * Math.PI);
      else {
        st.marker.forEach(([u, v], k) => (k ? ctx.lineTo : ctx.moveTo).call(ctx, xs[i] + u * size, ys[i] - v * size));
        ctx.closePath();
      }
      if (st.face && st.face !== "none") { ctx.fillStyle = st.face; ctx.fill(); }
      if (st.edgewidth > 0 && st.edge && st.edge !== "none") {
        ctx.strokeStyle = st.edge; ctx.lineWidth = st.edgewidth * pt; ctx.stroke();
      }
    }
    ctx.restore();
  }
  function note(ctx, text, x, y, pt, align) { // a text in the figure (a diverged run)
    ctx.save();
    ctx.font = `${9 * pt}px "DejaVu Sans", Verdana, sans-serif`;
    ctx.textAlign = align || "left";
    ctx.textBaseline = "top";
    const w = ctx.measureText(text).width, h = 11 * pt, pad = 3 * pt;
    const left = align === "right" ? x - w : x;
    ctx.fillStyle = "rgba(255, 255, 255, 0.88)";
    ctx.fillRect(left - pad, y - pad, w + 2 * pad, h + 2 * pad);
    ctx.fillStyle = "#a00000";
    ctx.fillText(text, x, y);
    ctx.restore();
  }

  // nice ticks as matplotlib's MaxNLocator: at most `most` steps of 1, 2, 2.5, 5 x 10^k
  function ticks(lo, hi, most) {
    const raw = (hi - lo) / most, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((s) => s * mag).find((s) => s >= raw * (1 - 1e-9));
    const out = [];
    for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
      out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
    }
    return out;
  }

  // --- the controls ---------------------------------------------------------------------------

  let counter = 0;
  function el(tag, attrs, parent) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v; else if (k === "style") e.style.cssText = v; else e.setAttribute(k, v);
    }
    if (parent) parent.appendChild(e);
    return e;
  }

  // A knob: a labelled range over `values` (its readout shown as the title writes it), a
  // range of integers, or a menu. get(), set(value), onchange(callback), setLabel, disable.
  function knob(box, spec, uid) {
    const id = `${uid}-${spec.key}`;
    const wrap = el("div", { class: "ae-knob" }, box);
    const label = el("label", { for: id, text: spec.label }, wrap);
    let input, output, values = null;
    if (spec.type === "menu") {
      input = el("select", { id: id }, wrap);
      for (const [value, text] of spec.options) el("option", { value: value, text: text }, input);
    } else {
      input = el("input", { id: id, type: "range" }, wrap);
      output = el("output", { for: id }, wrap);
      if (spec.type === "values") {
        values = spec.values.slice();
        Object.assign(input, { min: 0, max: values.length - 1, step: 1 });
      } else Object.assign(input, { min: spec.min, max: spec.max, step: spec.step || 1 });
    }
    const k = {
      key: spec.key, input: input, label: label,
      get: () => {
        if (spec.type === "menu") return input.value;
        return values ? values[+input.value] : +input.value;
      },
      set: (v) => {
        if (spec.type === "menu") input.value = v;
        else if (values) {
          let i = values.indexOf(v);
          if (i < 0) { values.push(v); values.sort((a, b) => a - b); i = values.indexOf(v); input.max = values.length - 1; }
          input.value = i;
        } else input.value = v;
        k.show();
      },
      show: () => {
        if (!output) return;
        const text = readout(k.get());
        output.textContent = text;
        input.setAttribute("aria-valuetext", text);
      },
      parse: (text) => { // a value from the URL's hash, or undefined
        if (spec.type === "menu") return spec.options.some(([v]) => v === text) ? text : undefined;
        const v = Number(text);
        if (text === "" || !isFinite(v)) return undefined;
        if (values) return v >= spec.lo && v <= spec.hi ? v : undefined;
        return Number.isInteger(v) && v >= spec.min && v <= spec.max ? v : undefined;
      },
      setLabel: (text) => { label.textContent = text; },
      disable: (off) => { input.disabled = off; wrap.classList.toggle("ae-off", off); },
    };
    k.set(spec.value);
    return k;
  }

  const STYLE = `
.adam-explorer{margin:1em 0 1.5em}
.adam-explorer .ae-knobs{display:grid;grid-template-columns:repeat(auto-fill,minmax(15em,1fr));gap:.2em 1.2em;margin-bottom:.4em}
.adam-explorer .ae-knob{display:flex;align-items:center;gap:.5em}
.adam-explorer .ae-knob label{min-width:4.5em;white-space:nowrap}
.adam-explorer .ae-knob input[type=range]{flex:1 1 6em;min-width:5em}
.adam-explorer .ae-knob input[type=number]{width:6em}
.adam-explorer .ae-knob output{min-width:3.5em;font-variant-numeric:tabular-nums}
.adam-explorer .ae-off input{opacity:.45}
.adam-explorer .ae-title{font-weight:bold;margin:.3em 0 .2em}
.adam-explorer .ae-figure{position:relative;max-width:100%}
.adam-explorer .ae-figure img,.adam-explorer .ae-figure canvas{position:absolute;left:0;top:0;width:100%;height:100%}
.adam-explorer .ae-figure canvas.ae-click{cursor:crosshair}
.adam-explorer .ae-status{margin:.2em 0}
.adam-explorer .ae-row{display:flex;flex-wrap:wrap;gap:.5em;align-items:center}
.adam-explorer button{font:inherit;padding:.1em .6em}
`;

  // --- an explorer: knobs, a title, the figure, a status line, the hash ------------------------

  function Explorer(root, spec) {
    if (!document.getElementById("adam-explorer-style")) {
      el("style", { id: "adam-explorer-style", text: STYLE }, document.head);
    }
    const uid = root.id || `adam-explorer-${++counter}`;
    // keys belong to the controls: JupyterLab would take the arrows for its own shortcuts
    root.setAttribute("data-lm-suppress-shortcuts", "true");
    root.addEventListener("keydown", (event) => event.stopPropagation());
    const box = el("div", { class: "ae-knobs", role: "group", "aria-label": spec.name + " settings" });
    const knobs = {};
    for (const k of spec.knobs) knobs[k.key] = knob(box, k, uid);
    const title = el("p", { class: "ae-title", "aria-live": "polite", id: uid + "-title" });
    const figure = el("div", { class: "ae-figure", style: `width:${spec.width}px;aspect-ratio:${spec.width}/${spec.height}` });
    const image = el("img", { alt: "", "aria-describedby": uid + "-title" }, figure);
    const canvas = el("canvas", { "aria-hidden": "true" }, figure);
    const status = el("p", { class: "ae-status", "aria-live": "polite" });
    const row = el("div", { class: "ae-row" });
    root.textContent = "";
    for (const e of [box, title, figure, status, row]) root.appendChild(e);
    const ctx = canvas.getContext("2d");
    const self = {
      root: root, spec: spec, knobs: knobs, title: title, image: image, canvas: canvas,
      status: status, row: row, ctx: ctx, uid: uid, redraws: 0, lastDraw: 0,
    };
    self.settings = () => {
      const s = {};
      for (const [key, k] of Object.entries(knobs)) s[key] = k.get();
      return s;
    };
    self.resize = () => { // the canvas at the device's resolution, the figure's units inside
      const scale = figure.clientWidth / spec.width, dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(figure.clientWidth * dpr);
      canvas.height = Math.round(figure.clientHeight * dpr);
      self.scale = scale * dpr;
    };
    self.clear = () => {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.setTransform(self.scale, 0, 0, self.scale, 0, 0);
    };
    return self;
  }

  // The hash: #ID?key=value&key=value (all the knobs of the explorer last moved).
  function writeHash(ex) { // once the reader pauses: history.replaceState costs milliseconds
    clearTimeout(ex.hashTimer);
    ex.hashTimer = setTimeout(() => writeHashNow(ex), 250);
  }
  function writeHashNow(ex) {
    const query = Object.entries(ex.state()).map(([k, v]) => `${k}=${encodeURIComponent(typeof v === "number" ? readout(v) : v)}`).join("&");
    history.replaceState(history.state, "", `#${ex.uid}?${query}`);
  }
  function readHash(ex) {
    const hash = decodeURIComponent(location.hash.slice(1));
    const [id, query] = hash.split("?");
    if (id !== ex.uid) return null;
    const values = {};
    for (const part of (query || "").split("&")) {
      const at = part.indexOf("=");
      if (at > 0) values[part.slice(0, at)] = part.slice(at + 1);
    }
    return values;
  }

  function wire(ex, redraw) {
    let drawn = null;
    const draw = (moved) => {
      const t0 = performance.now();
      redraw(moved);
      ex.redraws += 1;
      ex.drawnAt = performance.now();
      ex.lastDraw = ex.drawnAt - t0;
    };
    for (const k of Object.values(ex.knobs)) {
      const on = () => { k.show(); draw(k.key); writeHash(ex); };
      k.input.addEventListener(k.input.tagName === "SELECT" ? "change" : "input", on);
    }
    const fromHash = (scroll) => {
      const values = readHash(ex);
      if (!values) return false;
      ex.apply(values);
      draw(null);
      if (scroll) ex.root.scrollIntoView();
      return true;
    };
    ex.draw = draw;
    window.addEventListener("hashchange", () => fromHash(true));
    new ResizeObserver(() => { ex.resize(); draw(null); }).observe(ex.canvas.parentNode);
    ex.resize();
    if (!fromHash(true)) draw(null);
    // the Play button: the settings the chapter sweeps through (the printed book's frames)
    const tour = ex.spec.tour;
    if (tour) {
      const button = el("button", { type: "button", text: "▶ Play: " + tour.text }, ex.row);
      let timer = null, i = 0;
      const stop = () => { clearInterval(timer); timer = null; button.textContent = "▶ Play: " + tour.text; };
      button.addEventListener("click", () => {
        if (timer) { stop(); return; }
        button.textContent = "❚❚ Pause: " + tour.text;
        i = 0;
        const next = () => {
          const setting = tour.settings[i];
          for (const [key, v] of Object.entries(setting)) ex.knobs[key].set(v);
          draw(Object.keys(setting)[0]); writeHash(ex);
          if (++i >= tour.settings.length) stop();
        };
        next();
        timer = setInterval(next, 1000 / (tour.fps || 2));
      });
    }
    return draw;
  }

  function setAll(ex, values, order) {
    for (const key of order || Object.keys(ex.knobs)) {
      if (!(key in values) || !(key in ex.knobs)) continue;
      const v = ex.knobs[key].parse(values[key]);
      if (v !== undefined) ex.knobs[key].set(v);
    }
  }

  // --- the playground (playground.py) ----------------------------------------------------------

  function playground(root, spec) {
    const ex = Explorer(root, spec);
    const k = ex.knobs;
    let start = null, previous = ex.settings(); // start: null is the landscape's own
    // the start point: click on the landscape, or type it
    const startBox = el("div", { class: "ae-knob" }, ex.row);
    el("span", { text: "start:", id: ex.uid + "-start" }, startBox);
    const coords = [0, 1].map((i) => {
      const input = el("input", { type: "number", step: "0.05", id: `${ex.uid}-start${i}`, "aria-label": `start θ${i + 1}` }, startBox);
      return input;
    });
    const reset = el("button", { type: "button", text: "reset start" }, startBox);
    const images = {};
    const current = () => spec.landscapes[k.landscape.get()];
    ex.state = () => {
      const s = ex.settings();
      if (start) s.start = start.map(readout).join(",");
      return s;
    };
    ex.apply = (values) => {
      setAll(ex, values, ["landscape", "optimizer", "lr", "beta1", "beta2", "eps", "steps"]);
      start = null;
      if (values.start) {
        const p = values.start.split(",").map(Number);
        if (p.length === 2 && p.every(isFinite)) start = p;
      }
      previous = ex.settings();
    };
    wire(ex, (moved) => {
      const s = ex.settings(), entry = spec.optimizers[s.optimizer];
      if ((moved === "landscape" || moved === "optimizer")) {
        const family = spec.family[s.optimizer] || "adaptive";
        k.lr.set(spec.defaultLr[current().name][family]);
        if (moved === "landscape") start = null;
        s.lr = k.lr.get();
      }
      const names = entry.names;
      for (const key of ["beta1", "beta2", "eps"]) {
        const used = key in entry.knobs;
        k[key].disable(!used);
        k[key].setLabel(used ? names[key] : { beta1: "β1", beta2: "β2", eps: "ε" }[key]);
      }
      const ls = current();
      if (images.current !== ls.background) { ex.image.src = ls.background; images.current = ls.background; }
      const x0 = start || ls.start;
      coords.forEach((input, i) => { input.value = String(Number(x0[i].toPrecision(4))); });
      let path;
      try {
        path = trajectory(ls.spec, entry, s, s.steps, Float64Array.from(x0), spec.threshold);
      } catch (error) { // Nesterov with momentum 0: put the knob back, and say why
        const key = moved && moved in k ? moved : "beta1";
        k[key].set(previous[key]);
        ex.draw(null);
        ex.status.textContent = `${error.message}: ${key} is back at ${previous[key]}.`;
        return;
      }
      previous = ex.settings();
      ex.path = path;
      const knobText = ["lr", ...Object.keys(entry.knobs)].map((key) => `${names[key] || key} = ${readout(s[key])}`);
      ex.title.textContent = [entry.label, ...knobText].join(", ");
      // the figure
      ex.clear();
      const ctx = ex.ctx, m = mapper(ls.axes), pt = spec.pt, st = entry.style;
      const xs = [], ys = [];
      let diverged = -1;
      for (let i = 0; i <= s.steps; i++) {
        if (!isFinite(path[2 * i])) { diverged = i; break; }
        xs.push(m.x(path[2 * i])); ys.push(m.y(path[2 * i + 1]));
      }
      ctx.save();
      m.clip(ctx);
      strokeLine(ctx, xs, ys, st.path, pt);
      drawMarkers(ctx, xs, ys, st.path, pt, Math.max(1, Math.floor(xs.length / 25)));
      drawMarkers(ctx, xs.slice(0, 1), ys.slice(0, 1), st.start, pt);
      if (diverged >= 0) drawMarkers(ctx, xs.slice(-1), ys.slice(-1), st.cross, pt);
      for (const star of ls.stars) drawMarkers(ctx, star.x.map(m.x), star.y.map(m.y), star.style, pt);
      ctx.restore();
      let text;
      if (diverged >= 0) {
        text = `diverged at step ${diverged}: try a smaller lr`;
        note(ex.ctx, text, ls.axes.left + ls.axes.width - 6, ls.axes.top + 6, pt, "right");
      } else {
        const last = path.subarray(2 * s.steps, 2 * s.steps + 2);
        text = `after ${s.steps} steps: f(x) − f* = ${g3(landscape(ls.spec).f(last) - ls.minValue)}`;
      }
      ex.status.textContent = text;
      const end = diverged >= 0 ? "it diverges" : `it ends at (${g3(path[2 * s.steps])}, ${g3(path[2 * s.steps + 1])})`;
      ex.image.alt = `${ex.title.textContent}: the path of ${entry.label} on the ${ls.label} landscape from (${readout(x0[0])}, ${readout(x0[1])}); ${end}. ${text}.`;
    });
    // clicking the landscape sets the start point (rounded to 1/100 of the window)
    ex.canvas.classList.add("ae-click");
    ex.canvas.addEventListener("click", (event) => {
      const ls = current(), m = mapper(ls.axes), rect = ex.canvas.getBoundingClientRect();
      const scale = rect.width / spec.width;
      const [x, y] = m.invert((event.clientX - rect.left) / scale, (event.clientY - rect.top) / scale);
      const round = (v, [lo, hi]) => { const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / 100))); return Number((Math.round(v / step) * step).toPrecision(10)); };
      start = [round(x, ls.spec.window[0]), round(y, ls.spec.window[1])];
      ex.draw("start"); writeHash(ex);
    });
    const inRange = (v) => isFinite(v) && Math.abs(v) < 1e3;
    coords.forEach((input) => input.addEventListener("input", () => {
      const p = coords.map((c) => (c.value === "" ? NaN : Number(c.value)));
      if (p.every(inRange)) { start = p; ex.draw("start"); writeHash(ex); }
    }));
    reset.addEventListener("click", () => { start = null; ex.draw("start"); writeHash(ex); });
    return ex;
  }

  // --- the hump (hump.py) -----------------------------------------------------------------------

  function hump(root, spec) {
    const ex = Explorer(root, spec);
    const z = decode(spec.draws);
    ex.image.src = spec.background;
    ex.state = () => ex.settings();
    ex.apply = (values) => setAll(ex, values);
    wire(ex, () => {
      const s = ex.settings(), R = s.runs;
      const xs = humpRuns(spec, z, s.lr, s.noise, s.momentum, s.steps, R);
      ex.runs = xs;
      const last = xs.subarray(s.steps * R);
      const past = last.filter((x) => x > spec.humpTop).length;
      const lost = last.filter((x) => !isFinite(x)).length;
      const name = s.momentum ? "momentum" : "sgd";
      const knobs = [`lr = ${readout(s.lr)}`, `noise = ${readout(s.noise)}`];
      if (s.momentum) knobs.push(`momentum = ${readout(s.momentum)}`);
      knobs.push(`${s.steps} steps`);  // the axes are fixed: after every run has diverged, only the title shows a longer run
      ex.title.textContent = `${spec.labels[name]}, ${knobs.join(", ")}: ${past} of ${R} runs end past the hump` + (lost ? `, ${lost} diverged` : "");
      ex.clear();
      const ctx = ex.ctx, pt = spec.pt, [curveAx, timeAx] = spec.axes;
      const color = spec.colors[name];
      const mt = mapper(timeAx), mc = mapper(curveAx);
      ctx.save();
      mt.clip(ctx);
      // one path, the runs separated by gaps, as HumpPicture's one Line2D (alpha does not
      // add up where runs cross)
      const st = Object.assign({}, spec.paths, { color: color });
      const n = s.steps + 2, px = new Float64Array(R * n), py = new Float64Array(R * n);
      for (let r = 0; r < R; r++) {
        for (let t = 0; t <= s.steps; t++) { px[r * n + t] = mt.x(t); py[r * n + t] = mt.y(xs[t * R + r]); }
        px[r * n + n - 1] = NaN;
      }
      strokeLine(ctx, px, py, st, pt);
      ctx.restore();
      ctx.save();
      mc.clip(ctx);
      const f = (x) => (x * x - 1) * (x * x - 1) - spec.tilt * x;
      const ends = Array.from(last).filter(isFinite);
      drawMarkers(ctx, ends.map(mc.x), ends.map((x) => mc.y(f(x))), Object.assign({}, spec.ends, { face: color, edge: color }), pt);
      ctx.restore();
      if (lost) note(ctx, `${lost} of ${R} runs diverged (|x| > ${spec.threshold}): try a smaller lr`, timeAx.left + 6, timeAx.top + 6, pt);
      ex.image.alt = `${ex.title.textContent}. Left: the hump f(x) with the points where the runs end; right: each run's x against the step t, over ${s.steps} steps.`;
      ex.status.textContent = "";
    });
    return ex;
  }

  // --- the moments (moments.py) -----------------------------------------------------------------

  function moments(root, spec) {
    const ex = Explorer(root, spec);
    const z = decode(spec.draws);
    ex.image.src = spec.background;
    ex.state = () => ex.settings();
    ex.apply = (values) => setAll(ex, values);
    wire(ex, () => {
      const s = ex.settings();
      const rows = averages(z, s.mu, s.sigma, s.beta1, s.beta2);
      ex.rows = rows;
      ex.title.textContent = `β1 = ${readout(s.beta1)}, β2 = ${readout(s.beta2)}; the stream: mean μ = ${readout(s.mu)}, noise σ = ${readout(s.sigma)}`;
      ex.clear();
      const ctx = ex.ctx, pt = spec.pt, T = z.length;
      const truths = [s.mu, s.mu * s.mu + s.sigma * s.sigma];
      const limits = [[s.mu - 2 * s.sigma, s.mu + 2 * s.sigma], [0, 3 * truths[1]]];
      const t = Array.from({ length: T }, (_, i) => i + 1);
      spec.axes.forEach((axSpec, panel) => {
        const ax = Object.assign({}, axSpec, { ylim: limits[panel] }), m = mapper(ax);
        // the y axis, drawn here since mu and sigma move it: grid, ticks, labels
        ctx.save();
        ctx.font = `${9 * pt}px "DejaVu Sans", Verdana, sans-serif`;
        ctx.textAlign = "right"; ctx.textBaseline = "middle"; ctx.fillStyle = "#000";
        const marks = ticks(limits[panel][0], limits[panel][1], 8);
        const decimals = Math.max(...marks.map((v) => (readout(v).split(".")[1] || "").length));
        for (const v of marks) {
          const y = m.y(v);
          ctx.strokeStyle = spec.grid.color; ctx.lineWidth = spec.grid.width * pt;
          ctx.beginPath(); ctx.moveTo(ax.left, y); ctx.lineTo(ax.left + ax.width, y); ctx.stroke();
          ctx.strokeStyle = "#000"; ctx.lineWidth = 0.8 * pt;
          ctx.beginPath(); ctx.moveTo(ax.left - 3.5 * pt, y); ctx.lineTo(ax.left, y); ctx.stroke();
          ctx.fillText(v.toFixed(decimals).replace("-", "−"), ax.left - 5 * pt, y);
        }
        ctx.restore();
        ctx.save();
        m.clip(ctx);
        const tx = t.map(m.x);
        strokeLine(ctx, [ax.left, ax.left + ax.width], [m.y(truths[panel]), m.y(truths[panel])], spec.truth, pt);
        strokeLine(ctx, tx, Array.from(rows[2 * panel], m.y), spec.raw, pt);
        strokeLine(ctx, tx, Array.from(rows[2 * panel + 1], m.y), spec.corrected, pt);
        ctx.restore();
      });
      const fmt = (v) => g3(v);
      ex.image.alt = `${ex.title.textContent}. Left, the first moment: raw m_t starts at ${fmt(rows[0][0])} and ends at ${fmt(rows[0][T - 1])}, corrected m̂_t starts at ${fmt(rows[1][0])} and ends at ${fmt(rows[1][T - 1])}; the true mean is ${fmt(truths[0])}. Right, the second moment: raw v_t ends at ${fmt(rows[2][T - 1])}, corrected v̂_t at ${fmt(rows[3][T - 1])}; the truth is ${fmt(truths[1])}.`;
      ex.status.textContent = "";
    });
    return ex;
  }

  const KINDS = { playground: playground, hump: hump, moments: moments };

  function mountAll() {
    for (const root of document.querySelectorAll(".adam-explorer:not([data-mounted])")) {
      const data = root.querySelector("script[type='application/json']");
      if (!data) continue;
      root.setAttribute("data-mounted", "");
      if (root.id && document.querySelectorAll(`[id="${root.id}"]`).length > 1) { // same knob twice
        let n = 2;
        while (document.getElementById(`${root.id}-${n}`)) n++;
        root.id = `${root.id}-${n}`;
      }
      try {
        const spec = JSON.parse(data.textContent);
        root.explorer = KINDS[spec.kind](root, spec);
      } catch (error) {
        root.removeAttribute("data-mounted");
        throw error;
      }
    }
  }

  window.AdamCourse = {
    mountAll: mountAll,
    readout: readout,
    numerics: { landscape, build, fromCatalog, run, trajectory, humpRuns, averages, decode, ipow, cube },
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
