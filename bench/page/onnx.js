// The exported network (weights.json + weights.bin, TF layouts, batch norm folded) as an ONNX model,
// written as protobuf bytes directly — a few message types are all a MobileNet needs, so no onnx
// package or Python step. The graph takes the same NHWC input as the other engines and transposes
// it once; convolutions are NCHW with OIHW weights, depthwise ones are Conv with group = channels.

// Field numbers and enums from onnx.proto (onnx/onnx, IR version 7 / opset 13).
const IR_VERSION = 7;
const OPSET = 13;
const FLOAT = 1; // TensorProto.DataType
const ATTR_INT = 2;
const ATTR_INTS = 7;

// --- protobuf wire format: varints (wire type 0) and length-delimited fields (wire type 2) ---

function varint(n) {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`onnx: cannot encode ${n}`);
  const out = [];
  while (n > 0x7f) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

const utf8 = new TextEncoder();

/** A message under construction: a list of byte chunks, concatenated once at the end. */
class Message {
  constructor() {
    this.chunks = [];
  }
  int(field, n) {
    this.chunks.push(new Uint8Array([...varint(field << 3), ...varint(n)]));
    return this;
  }
  // Repeated scalars unpacked, as proto2 (onnx.proto's syntax) writes them.
  ints(field, list) {
    list.forEach((n) => this.int(field, n));
    return this;
  }
  bytes(field, data) {
    this.chunks.push(new Uint8Array([...varint((field << 3) | 2), ...varint(data.length)]), data);
    return this;
  }
  string(field, s) {
    return this.bytes(field, utf8.encode(s));
  }
  message(field, m) {
    return this.bytes(field, m.encode());
  }
  encode() {
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

// --- ONNX messages ---

function tensor(name, dims, values) {
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength); // little-endian f32
  return new Message().ints(1, dims).int(2, FLOAT).string(8, name).bytes(9, raw);
}

function valueInfo(name, dims) {
  const shape = new Message();
  dims.forEach((d) => shape.message(1, new Message().int(1, d)));
  const tensorType = new Message().int(1, FLOAT).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

function node(op, inputs, outputs, attrs = {}) {
  const n = new Message();
  inputs.forEach((i) => n.string(1, i));
  outputs.forEach((o) => n.string(2, o));
  n.string(3, outputs[0]).string(4, op);
  for (const [name, v] of Object.entries(attrs)) {
    const a = new Message().string(1, name);
    if (Array.isArray(v)) a.ints(8, v).int(20, ATTR_INTS);
    else a.int(3, v).int(20, ATTR_INT);
    n.message(5, a);
  }
  return n;
}

// --- from TF layouts and TF's SAME rule ---

/** TF SAME padding of one axis: the odd cell goes after (pad_before = floor(total / 2)). */
export function samePads(size, kernel, stride, rate) {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * rate + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** [kh, kw, in, out] (TF conv; depthwise is [kh, kw, c, 1]) → [out, in, kh, kw] (ONNX OIHW). */
function hwioToOihw(values, [kh, kw, cin, cout]) {
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = values[((y * kw + x) * cin + i) * cout + o];
  return out;
}

/** A conv layer of the manifest as Conv (+ Clip for ReLU6), its weights as initializers. */
function convNodes(layer, blob, x, graph) {
  const f = layer.filter;
  const values = new Float32Array(blob, f.offset, f.shape.reduce((a, b) => a * b));
  const [kh, kw, cin, mult] = f.shape;
  const depthwise = layer.op === 'depthwise';
  // Depthwise [kh, kw, c, 1] is a grouped conv whose OIHW weight is [c, 1, kh, kw].
  const weight = depthwise ? hwioToOihw(values, [kh, kw, 1, cin * mult]) : hwioToOihw(values, f.shape);
  const dims = depthwise ? [cin * mult, 1, kh, kw] : [f.shape[3], cin, kh, kw];
  const bias = new Float32Array(blob, layer.bias.offset, layer.bias.shape[0]);
  const [h, w] = layer.input;
  const [top, bottom] = samePads(h, kh, layer.stride, layer.rate);
  const [left, right] = samePads(w, kw, layer.stride, layer.rate);
  graph.initializer(tensor(`${layer.name}/weights`, dims, weight));
  graph.initializer(tensor(`${layer.name}/biases`, [bias.length], bias));
  const y = layer.activation === 'relu6' ? `${layer.name}/conv` : layer.name;
  graph.node(node('Conv', [x, `${layer.name}/weights`, `${layer.name}/biases`], [y], {
    kernel_shape: [kh, kw],
    strides: [layer.stride, layer.stride],
    dilations: [layer.rate, layer.rate],
    pads: [top, left, bottom, right],
    group: depthwise ? cin : 1,
  }));
  if (layer.activation === 'relu6') graph.node(node('Clip', [y, 'zero', 'six'], [layer.name]));
  return layer.name;
}

/**
 * ONNX model bytes for the exported network: input "input" [1, H, W, 3] NHWC float32 in [-1, 1],
 * output "probs" [1, classes] (softmax of the logits).
 */
export function onnxModel(manifest, blob) {
  const [h, w] = manifest.config.resolution;
  const classes = manifest.config.num_classes;
  const nodes = [];
  const inits = [];
  const graph = { node: (n) => nodes.push(n), initializer: (t) => inits.push(t) };
  inits.push(tensor('zero', [], new Float32Array([0])), tensor('six', [], new Float32Array([6])));
  graph.node(node('Transpose', ['input'], ['input/nchw'], { perm: [0, 3, 1, 2] }));
  let x = 'input/nchw';
  for (const layer of manifest.layers) {
    if (layer.op === 'avg_pool') {
      graph.node(node('GlobalAveragePool', [x], [layer.name]));
      x = layer.name;
    } else {
      x = convNodes(layer, blob, x, graph);
    }
  }
  graph.node(node('Flatten', [x], ['logits'], { axis: 1 }));
  graph.node(node('Softmax', ['logits'], ['probs'], { axis: 1 }));

  const g = new Message();
  nodes.forEach((n) => g.message(1, n));
  g.string(2, 'mobilenet_v1');
  inits.forEach((t) => g.message(5, t));
  g.message(11, valueInfo('input', [1, h, w, 3]));
  g.message(12, valueInfo('probs', [1, classes]));
  return new Message()
    .int(1, IR_VERSION)
    .string(2, 'mobilenet-wasm bench')
    .message(7, g)
    .message(8, new Message().string(1, '').int(2, OPSET))
    .encode();
}
