// A drawing canvas: white ink on black, like MNIST. On each stroke's end the picture goes to Python
// as a 56×56 grey image (base64 uint8); Python scales and centres it the way MNIST digits were.
const SIZE = 280; // drawing resolution
const SEND = 56; // what travels: 56×56 bytes

function build(root) {
  root.innerHTML = `
    <canvas class="ink" width="${SIZE}" height="${SIZE}" aria-label="drawing canvas"></canvas>
    <div class="tools">
      <button type="button" class="clear">Clear</button>
      <label>Pen <input type="range" class="pen" min="10" max="36" value="22"></label>
    </div>`;
  const ui = {
    ink: root.querySelector(".ink"), clear: root.querySelector(".clear"), pen: root.querySelector(".pen"),
    small: Object.assign(document.createElement("canvas"), { width: SEND, height: SEND }),
    strokes: 0,
  };
  ui.ctx = ui.ink.getContext("2d");
  blank(ui);
  return ui;
}

function blank(ui) {
  ui.ctx.fillStyle = "#000";
  ui.ctx.fillRect(0, 0, SIZE, SIZE);
  ui.strokes = 0;
}

function encode(ui) {
  const small = ui.small.getContext("2d");
  small.imageSmoothingEnabled = true;
  small.imageSmoothingQuality = "high";
  small.clearRect(0, 0, SEND, SEND);
  small.drawImage(ui.ink, 0, 0, SEND, SEND);
  const rgba = small.getImageData(0, 0, SEND, SEND).data;
  const grey = new Uint8Array(SEND * SEND);
  for (let i = 0; i < grey.length; i++) grey[i] = rgba[4 * i];
  let text = "";
  for (let i = 0; i < grey.length; i += 4096) text += String.fromCharCode.apply(null, grey.subarray(i, i + 4096));
  return btoa(text);
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".vae-draw") || parentElement.appendChild(
    Object.assign(document.createElement("div"), { className: "vae-draw" }));
  const ui = root.__ui || (root.__ui = build(root));
  if (data && data.clear_token !== undefined && ui.clearToken !== data.clear_token) {
    if (ui.clearToken !== undefined) blank(ui);
    ui.clearToken = data.clear_token;
  }
  const point = (event) => {
    const box = ui.ink.getBoundingClientRect();
    return [(event.clientX - box.left) * SIZE / box.width, (event.clientY - box.top) * SIZE / box.height];
  };
  let drawing = false;
  let last = null;
  const dot = ([x, y]) => {
    ui.ctx.fillStyle = "#fff";
    ui.ctx.beginPath();
    ui.ctx.arc(x, y, Number(ui.pen.value) / 2, 0, 2 * Math.PI);
    ui.ctx.fill();
  };
  const line = (a, b) => {
    ui.ctx.strokeStyle = "#fff";
    ui.ctx.lineWidth = Number(ui.pen.value);
    ui.ctx.lineCap = "round";
    ui.ctx.lineJoin = "round";
    ui.ctx.beginPath();
    ui.ctx.moveTo(a[0], a[1]);
    ui.ctx.lineTo(b[0], b[1]);
    ui.ctx.stroke();
  };
  ui.ink.onpointerdown = (event) => {
    drawing = true;
    try { ui.ink.setPointerCapture(event.pointerId); } catch (e) { /* synthetic pointers cannot be captured */ }
    last = point(event);
    dot(last);
  };
  ui.ink.onpointermove = (event) => {
    if (!drawing) return;
    const p = point(event);
    line(last, p);
    last = p;
  };
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    ui.strokes += 1;
    setStateValue("image", { size: SEND, pixels: encode(ui), strokes: ui.strokes });
  };
  ui.ink.onpointerup = finish;
  ui.ink.onpointerleave = finish;
  ui.clear.onclick = () => {
    blank(ui);
    setStateValue("image", null);
  };
}
