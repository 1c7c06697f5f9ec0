// The MLP decoder of a checkpoint, evaluated in the browser: Linear → ReLU → … → Linear → sigmoid.
// The same network as vae.model.VAE.decode; tests/unit/test_latent_pad.py holds it to the torch decoder.

/** base64 of little-endian float32 → Float32Array */
export function floatsFromBase64(text) {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

/** layers: [{inputs, outputs, weight: Float32Array [outputs*inputs] row-major, bias: Float32Array}] */
export function makeDecoder(layers) {
  const widest = Math.max(...layers.map((l) => l.outputs), ...layers.map((l) => l.inputs));
  const a = new Float32Array(widest);
  const b = new Float32Array(widest);
  return function decode(z, out) {
    let input = a;
    let output = b;
    input.set(z);
    layers.forEach((layer, index) => {
      const { inputs, outputs, weight, bias } = layer;
      const last = index === layers.length - 1;
      for (let o = 0; o < outputs; o++) {
        let sum = bias[o];
        const row = o * inputs;
        for (let i = 0; i < inputs; i++) sum += weight[row + i] * input[i];
        output[o] = last ? 1 / (1 + Math.exp(-sum)) : (sum > 0 ? sum : 0);
      }
      [input, output] = [output, input];
    });
    const result = out || new Float32Array(layers[layers.length - 1].outputs);
    result.set(input.subarray(0, result.length));
    return result;
  };
}

/** The decoder from the payload Python sends: {layers: [{inputs, outputs, weight: b64, bias: b64}]} */
export function decoderFromPayload(payload) {
  return makeDecoder(payload.layers.map((l) => ({
    inputs: l.inputs, outputs: l.outputs,
    weight: floatsFromBase64(l.weight), bias: floatsFromBase64(l.bias),
  })));
}
