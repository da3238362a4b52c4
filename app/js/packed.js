// Python's app/packed.py unpack, in the page: `items` with each [offset, length] under a key of
// `types` (key -> "Float32Array" or "Uint8Array") replaced by a typed-array view into `data`.
function withArrays(items, data, types) {
  data = data || new Uint8Array(0);
  if (data.byteOffset % 4 !== 0) data = data.slice();  // a float32 view needs an aligned start
  return items.map(item => {
    const out = Object.assign({}, item);
    for (const key in types) {
      if (item[key]) out[key] = new globalThis[types[key]](data.buffer, data.byteOffset + item[key][0], item[key][1]);
    }
    return out;
  });
}

// A layer canvas's last frame (app/canvas_js.py LayerCanvas): its layers with their arrays.
function layersWithArrays(model) { return withArrays(model.layers, model.arrays.data, model.array_types); }
