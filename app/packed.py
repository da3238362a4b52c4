"""A frame's arrays in one binary buffer, for the canvases (the plane, the 3D scene, the charts).

Why: Bokeh sends each array of a property change as two websocket messages after three for the
message itself (bokeh/protocol/message.py), so a plane frame of six arrays was 15 messages. At
~11 frames a second, receiving them, not drawing them, was most of Chromium's cost beside the
page (bench/app_speed.py; docs/performance.md). Packed, a frame is five messages.

Python's ``pack`` replaces each array of an item (a layer, a column) by ``[byte offset, length]``
into one uint8 buffer; the page's ``withArrays`` (app/js/packed.js) gives the items back with
typed-array views into that buffer, and ``unpack`` does the same in Python (for tests).
"""

from __future__ import annotations

import numpy as np

EMPTY = np.zeros(0, np.uint8)

# The JavaScript types of the NumPy types an array may have.
_JS_TYPES = {np.dtype(np.float32): "Float32Array", np.dtype(np.uint8): "Uint8Array"}


def pack(items: list[dict], arrays: dict[str, type]) -> tuple[list[dict], np.ndarray]:
    """``items`` with each value under a key of ``arrays`` (key -> NumPy type) replaced by
    ``[byte offset, length]`` into the returned uint8 buffer. Each array starts at a multiple of
    4 bytes, as a float32 view into the buffer needs."""
    parts, offset, packed = [], 0, []
    for item in items:
        item = dict(item)
        for key, dtype in arrays.items():
            if key in item:
                raw = np.ascontiguousarray(item[key], dtype=dtype).reshape(-1)
                item[key] = [offset, int(raw.size)]
                pad = -(offset + raw.nbytes) % 4
                parts += [raw.view(np.uint8), np.zeros(pad, np.uint8)]
                offset += raw.nbytes + pad
        packed.append(item)
    return packed, np.concatenate(parts) if parts else EMPTY


def unpack(items: list[dict], data: np.ndarray, arrays: dict[str, type]) -> list[dict]:
    """``pack`` undone: the items with their arrays, read from ``data`` as the page reads them."""
    out = []
    for item in items:
        item = dict(item)
        for key, dtype in arrays.items():
            if key in item:
                start, length = item[key]
                item[key] = np.frombuffer(data, dtype=dtype, count=length, offset=start)
        out.append(item)
    return out


def js_types(arrays: dict[str, type]) -> dict[str, str]:
    """``arrays`` as the page's ``withArrays`` takes it: key -> typed-array constructor's name."""
    return {key: _JS_TYPES[np.dtype(dtype)] for key, dtype in arrays.items()}

