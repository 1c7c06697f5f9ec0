// The latent pad: drag over the plane of two latent dimensions; the digit is decoded here, every frame.
// Weights arrive once per model (module-level cache); the final z goes back to Python on release.
const MODELS = new Map(); // model id → {decode, means: Float32Array [N*d], labels: Uint8Array, dim}
const KEEP_MODELS = 4; // a live run sends its decoder every few seconds: only the newest few are kept
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf"];
const STATS = (window.__vaePadStats = window.__vaePadStats || { frames: 0, decodeMs: [] });

function bytesFromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function ensureModel(data, setTriggerValue, root) {
  if (data.payload && !MODELS.has(data.model)) {
    MODELS.set(data.model, {
      decode: decoderFromPayload(data.payload),
      means: floatsFromBase64(data.payload.means),
      labels: bytesFromBase64(data.payload.labels),
      dim: data.latent_dim,
    });
    while (MODELS.size > KEEP_MODELS) MODELS.delete(MODELS.keys().next().value);
  }
  const model = MODELS.get(data.model);
  root.__wanted = data.model;
  root.__ask = setTriggerValue;  // the newest render's
  if (!model) askForWeights(root, data.model, 3000);
  return model;
}

// Ask Python for a model's weights, and ask again (after 3 s, then 6, 12, ... at most 30) while they have not come:
// a request can come to nothing (the run it starts cut short by another, its message lost), and Streamlit renders
// this component again only when its data change, so without a retry the pad would stay blank for good.
function askForWeights(root, modelId, wait) {
  clearTimeout(root.__retry);
  root.__ask("need_weights", modelId);
  root.__retry = setTimeout(() => {
    if (root.isConnected && root.__wanted === modelId && !MODELS.has(modelId)) {
      askForWeights(root, modelId, Math.min(2 * wait, 30000));
    }
  }, wait);
}

function build(root) {
  root.innerHTML = `
    <div class="pad-row">
      <canvas class="pad" width="380" height="380" tabindex="0" role="application"
        aria-roledescription="latent pad" aria-describedby="${root.__id}-position"></canvas>
      <div class="side">
        <canvas class="digit" width="224" height="224" role="img" aria-label="decoded image"></canvas>
        <div class="readout"></div>
        <div class="position" id="${root.__id}-position" role="status" aria-live="polite"></div>
        <div class="hint">Drag, or focus the pad and use the arrow keys (Shift: larger steps); Enter or Space applies z.</div>
        <div class="sliders"></div>
      </div>
    </div>`;
  return {
    pad: root.querySelector(".pad"), digit: root.querySelector(".digit"),
    readout: root.querySelector(".readout"), position: root.querySelector(".position"),
    sliders: root.querySelector(".sliders"),
    small: Object.assign(document.createElement("canvas"), { width: 28, height: 28 }),
    background: document.createElement("canvas"),
  };
}

export default function (component) {
  const { parentElement, setStateValue, setTriggerValue } = component;
  const data = JSON.parse(component.data.json);  // one string: see latent_pad() in __init__.py
  const root = parentElement.querySelector(".vae-pad") || parentElement.appendChild(
    Object.assign(document.createElement("div"), { className: "vae-pad" }));
  root.__id = root.__id || `vae-pad-${Math.random().toString(36).slice(2)}`;
  const ui = root.__ui || (root.__ui = build(root));
  const model = ensureModel(data, setTriggerValue, root);
  if (!model) return;
  const [dx, dy] = data.dims;
  const [[x0, x1], [y0, y1]] = data.ranges;
  // Streamlit may call this function again on any re-render: keep the z the user has set here,
  // and take Python's z only when Python sent a new one (a click on the scatter, a slider, a new model).
  const sentZ = JSON.stringify(data.z);
  const layoutKey = `${data.family || data.model}|${dx}|${dy}|${data.z.length}`;  // a family keeps its z
  if (ui.sentZ !== sentZ || ui.layoutKey !== layoutKey) {
    ui.z = Float32Array.from(data.z);
    ui.sentZ = sentZ;
  }
  const z = ui.z;
  const [h, w] = data.image_shape;
  const pixels = new Float32Array(h * w);
  const image = ui.small.getContext("2d").createImageData(w, h);
  const W = ui.pad.width, H = ui.pad.height;
  const toPad = (x, y) => [((x - x0) / (x1 - x0)) * W, (1 - (y - y0) / (y1 - y0)) * H];

  // the test-set means, faintly, drawn once per model, dimensions and extent
  const backgroundKey = `${data.model}|${dx}|${dy}|${data.ranges}`;
  if (ui.backgroundKey !== backgroundKey) {
    ui.background.width = W; ui.background.height = H;
    const g = ui.background.getContext("2d");
    g.fillStyle = "#fff"; g.fillRect(0, 0, W, H);
    g.globalAlpha = 0.25;
    const d = model.dim;
    for (let i = 0; i < model.labels.length; i++) {
      const [px, py] = toPad(model.means[i * d + dx], model.means[i * d + dy]);
      g.fillStyle = COLORS[model.labels[i] % 10];
      g.fillRect(px - 1, py - 1, 2, 2);
    }
    ui.backgroundKey = backgroundKey;
  }

  function draw() {
    const start = performance.now();
    model.decode(z, pixels);
    STATS.decodeMs.push(performance.now() - start);
    STATS.frames += 1;
    for (let i = 0; i < pixels.length; i++) {
      const v = Math.round(Math.min(1, Math.max(0, pixels[i])) * 255);
      image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = v;
      image.data[4 * i + 3] = 255;
    }
    ui.small.getContext("2d").putImageData(image, 0, 0);
    const g = ui.digit.getContext("2d");
    g.imageSmoothingEnabled = false;
    g.drawImage(ui.small, 0, 0, ui.digit.width, ui.digit.height);
    const p = ui.pad.getContext("2d");
    p.drawImage(ui.background, 0, 0);
    const [px, py] = toPad(z[dx], z[dy]);
    p.strokeStyle = "#000"; p.lineWidth = 2;
    p.beginPath(); p.arc(px, py, 7, 0, 2 * Math.PI); p.moveTo(px - 11, py); p.lineTo(px + 11, py);
    p.moveTo(px, py - 11); p.lineTo(px, py + 11); p.stroke();
    ui.readout.textContent = "z = (" + Array.from(z.slice(0, 4), (v) => v.toFixed(2)).join(", ") +
      (z.length > 4 ? ", …)" : ")");
    ui.position.textContent = `z${dx + 1} = ${z[dx].toFixed(2)} (across), z${dy + 1} = ${z[dy].toFixed(2)} (up)`;
  }

  let pending = false;
  const schedule = () => {
    if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; draw(); }); }
  };
  const send = () => setStateValue("z", Array.from(z));

  // sliders for the dimensions the pad does not move (rebuilt only when the layout changes)
  if (ui.layoutKey !== layoutKey) {
    ui.sliders.innerHTML = "";
    for (let i = 0; i < z.length; i++) {
      if (i === dx || i === dy) continue;
      const label = document.createElement("label");
      label.textContent = `z${i + 1} `;
      const input = Object.assign(document.createElement("input"), { type: "range", min: -4, max: 4, step: 0.01 });
      input.dataset.dim = i;
      label.appendChild(input);
      label.appendChild(document.createElement("output"));
      ui.sliders.appendChild(label);
    }
    ui.layoutKey = layoutKey;
  }
  ui.sliders.querySelectorAll("input").forEach((input) => {
    const i = Number(input.dataset.dim);
    const shown = input.nextElementSibling;  // the slider's value, beside it
    const show = () => { shown.textContent = Number(input.value).toFixed(2); };
    input.value = z[i];
    show();
    input.oninput = () => { z[i] = Number(input.value); show(); schedule(); };
    input.onchange = send;
  });

  const move = (event) => {
    const box = ui.pad.getBoundingClientRect();
    z[dx] = x0 + ((event.clientX - box.left) / box.width) * (x1 - x0);
    z[dy] = y1 - ((event.clientY - box.top) / box.height) * (y1 - y0);
    schedule();
  };
  // ui.dragging, not a local: a drag goes on across a render (a live run's new decoder arriving mid-drag)
  ui.pad.onpointerdown = (event) => {
    ui.dragging = true;
    try { ui.pad.setPointerCapture(event.pointerId); } catch (e) { /* a synthetic pointer cannot be captured */ }
    move(event);
  };
  ui.pad.onpointermove = (event) => { if (ui.dragging) move(event); };
  ui.pad.onpointerup = (event) => { if (ui.dragging) { ui.dragging = false; move(event); send(); } };

  // The keyboard: arrow keys move z by 1/50 of the pad (Shift: 1/5), within the pad; z goes back to Python
  // when the keys rest for a moment, or at once on Enter or Space.
  const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
  const clamp = (v, a, b) => Math.min(Math.max(v, Math.min(a, b)), Math.max(a, b));
  ui.pad.setAttribute("aria-label", `latent pad of z${dx + 1} and z${dy + 1}: arrow keys move z, Shift for larger ` +
    "steps, Enter or Space applies it");
  ui.pad.onkeydown = (event) => {
    if (event.key in ARROWS) {
      event.preventDefault();
      const [sx, sy] = ARROWS[event.key];
      const step = event.shiftKey ? 1 / 5 : 1 / 50;
      z[dx] = clamp(z[dx] + sx * step * (x1 - x0), x0, x1);
      z[dy] = clamp(z[dy] + sy * step * (y1 - y0), y0, y1);
      clearTimeout(ui.keyTimer);
      ui.keyTimer = setTimeout(send, 600);
      schedule();
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      clearTimeout(ui.keyTimer);
      send();
    }
  };
  draw();
}
