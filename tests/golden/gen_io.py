#!/usr/bin/env python3
"""Interop fixtures for tests/test_io.cpp, written into tests/golden/io/.

* py_*.safetensors are written by the `safetensors` package (pip install safetensors numpy); when
  it is missing, the same files are written by write_safetensors() below, which follows the
  format description, and a note is printed.
* s2dm_*.safetensors are written by write_safetensors() with the exact conventions of
  engine/io/safetensors.cpp (compact JSON with sorted keys, data in name order, header padded with
  spaces to a multiple of 8). The C++ test writes the same tensors and requires byte equality, so
  every check made here on these files (the `safetensors` package and read_safetensors() below
  both read them back with the right values) holds for files s2dm writes.
* np_*.npy are written by numpy, including layouts and dtypes the loader must accept or refuse.

Usage: python3 tests/golden/gen_io.py          regenerate and verify the fixtures
       python3 tests/golden/gen_io.py FILE...  verify and summarise safetensors files
"""
import json
import os
import struct
import sys

import numpy as np

try:
    import safetensors
    import safetensors.numpy
except ImportError:
    safetensors = None

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "io")

ST_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "F16": np.dtype("<f2"),
             "BF16": np.dtype("<u2")}


def bf16_bits(values):
    """float32 -> bfloat16 bit patterns, round to nearest even, NaN kept quiet."""
    u = np.asarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(np.asarray(values, dtype=np.float32))
    rounded[nan] = ((u[nan] >> 16) | 0x40).astype(np.uint16)
    return rounded


def bf16_to_f32(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def write_safetensors(path, tensors, metadata=None):
    """tensors: name -> (dtype string, shape, little-endian bytes). s2dm's writer conventions."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = dict(metadata)
    for name in sorted(tensors, key=lambda s: s.encode("utf-8")):
        dtype, shape, data = tensors[name]
        header[name] = {"data_offsets": [offset, offset + len(data)], "dtype": dtype,
                        "shape": list(shape)}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    head = text.encode("utf-8")
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(chunks))


def read_safetensors(path):
    """Independent reader: returns (name -> (dtype, numpy array), metadata); checks tiling."""
    with open(path, "rb") as f:
        blob = f.read()
    assert len(blob) >= 8, f"{path}: too short"
    (n,) = struct.unpack("<Q", blob[:8])
    assert 8 + n <= len(blob), f"{path}: header beyond end of file"
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    buf = blob[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    assert all(isinstance(v, str) for v in metadata.values())
    spans, out = [], {}
    for name, info in header.items():
        dtype = ST_DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        assert end - begin == count * dtype.itemsize, f"{name}: size mismatch"
        arr = np.frombuffer(buf[begin:end], dtype=dtype).reshape(info["shape"])
        if info["dtype"] == "BF16":
            arr = bf16_to_f32(arr).reshape(info["shape"])
        out[name] = (info["dtype"], arr)
        spans.append((begin, end))
    cursor = 0
    for begin, end in sorted(spans):
        assert begin == cursor, f"{path}: hole or overlap at byte {begin}"
        cursor = end
    assert cursor == len(buf), f"{path}: trailing bytes"
    return out, metadata


def package_read(path):
    """name -> (dtype, float array) through the safetensors package (raw API: numpy has no bf16)."""
    with open(path, "rb") as f:
        items = safetensors.deserialize(f.read())
    out = {}
    for name, info in items:
        raw = np.frombuffer(bytes(info["data"]), dtype=ST_DTYPES[info["dtype"]])
        if info["dtype"] == "BF16":
            raw = bf16_to_f32(raw)
        out[name] = (info["dtype"], raw.reshape(info["shape"]))
    return out


def same(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def verify(path, expected=None, expected_metadata=None):
    ours, metadata = read_safetensors(path)
    if expected is not None:
        assert set(ours) == set(expected), f"{path}: names {sorted(ours)}"
        for name, (dtype, values) in expected.items():
            assert ours[name][0] == dtype, f"{path}: {name} dtype {ours[name][0]}"
            assert same(ours[name][1], values), f"{path}: {name} values {ours[name][1]}"
    if expected_metadata is not None:
        assert metadata == expected_metadata, f"{path}: metadata {metadata}"
    if safetensors is not None:
        theirs = package_read(path)
        assert set(theirs) == set(ours)
        for name in ours:
            assert theirs[name][0] == ours[name][0] and same(theirs[name][1], ours[name][1])
    return ours, metadata


def save_with_package(path, arrays, metadata=None, raw=None):
    """arrays: numpy arrays; raw: name -> (dtype, shape, bytes) for dtypes numpy lacks (BF16)."""
    raw = raw or {}
    if safetensors is None:
        tensors = {k: ({"float32": "F32", "float64": "F64", "float16": "F16"}[v.dtype.name],
                       v.shape, v.astype(v.dtype.newbyteorder("<")).tobytes())
                   for k, v in arrays.items()}
        tensors.update(raw)
        write_safetensors(path, tensors, metadata)
        return
    keep = []
    specs = {}
    for name, arr in arrays.items():
        arr = arr.copy(order="C")  # ascontiguousarray would turn 0-d into 1-d
        keep.append(arr)
        specs[name] = safetensors.TensorSpec(dtype=arr.dtype.name, shape=list(arr.shape),
                                             data_ptr=arr.ctypes.data, data_len=arr.nbytes)
    names = {"F32": "float32", "F64": "float64", "F16": "float16", "BF16": "bfloat16"}
    for name, (dtype, shape, data) in raw.items():
        buf = np.frombuffer(data, dtype=np.uint8).copy()
        keep.append(buf)
        specs[name] = safetensors.TensorSpec(dtype=names[dtype], shape=list(shape),
                                             data_ptr=buf.ctypes.data, data_len=len(data))
    safetensors.serialize_file(specs, path, metadata=metadata)
    os.chmod(path, 0o644)  # the package creates files readable by their owner only


def gen_safetensors():
    mixed = {
        "weight": (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3),
        "bias": np.array([0.1, -2.25, 1e-300], dtype=np.float64),
        "scalar": np.array(3.5, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }
    meta = {"format": "np", "note": "p\u00e4per \u2713"}
    path = os.path.join(OUT, "py_mixed.safetensors")
    save_with_package(path, mixed, meta)
    verify(path, {k: ({"float32": "F32", "float64": "F64"}[v.dtype.name], v)
                  for k, v in mixed.items()}, meta)

    f16 = np.array([0.0, -0.0, 1.0, -2.5, 65504.0, -65504.0, 2.0**-14, 2.0**-24, 3 * 2.0**-24,
                    1000 * 2.0**-24, np.inf, -np.inf, np.nan, 1 / 3, 0.1], dtype=np.float16)
    path = os.path.join(OUT, "py_f16.safetensors")
    save_with_package(path, {"values": f16, "expected": f16.astype(np.float32)})
    verify(path, {"values": ("F16", f16), "expected": ("F32", f16.astype(np.float32))})

    src = np.array([1.0, -3.140625, 1e-40, 3.3895314e38, np.inf, np.nan, 0.1, -0.0],
                   dtype=np.float32)
    bits = bf16_bits(src)
    widened = bf16_to_f32(bits)
    path = os.path.join(OUT, "py_bf16.safetensors")
    save_with_package(path, {"expected": widened},
                      raw={"values": ("BF16", [len(src)], bits.astype("<u2").tobytes())})
    verify(path, {"values": ("BF16", widened), "expected": ("F32", widened)})

    # What s2dm's save_safetensors must produce byte for byte (see tests/test_io.cpp).
    a = np.array([[1, -2], [0.5, 3.25]], dtype=np.float32)
    b = np.array([0.1, -1e300, 2], dtype=np.float64)
    c = bf16_bits([1.5, -0.125])
    d = np.array(7, dtype=np.float32)
    e = np.zeros((0, 3), dtype=np.float64)
    path = os.path.join(OUT, "s2dm_native.safetensors")
    write_safetensors(path, {
        "a": ("F32", a.shape, a.tobytes()),
        "b": ("F64", b.shape, b.tobytes()),
        "c": ("BF16", [2], c.tobytes()),
        "d": ("F32", [], d.tobytes()),
        "e": ("F64", e.shape, e.tobytes()),
    }, {"epoch": "3", "name": "s2dm test"})
    verify(path, {"a": ("F32", a), "b": ("F64", b), "c": ("BF16", bf16_to_f32(c)),
                  "d": ("F32", d), "e": ("F64", e)}, {"epoch": "3", "name": "s2dm test"})

    h = np.array([1.0, -0.333, 65519.0, 65520.0, 1e-6, 2.98e-8, 3.0e-8], dtype=np.float32)
    with np.errstate(over="ignore"):  # 65520 rounds to infinity on purpose
        hh = h.astype(np.float16)
    path = os.path.join(OUT, "s2dm_f16.safetensors")
    write_safetensors(path, {"h": ("F16", [len(h)], hh.tobytes())})
    verify(path, {"h": ("F16", hh)}, {})


def gen_npy():
    def save(name, arr, version=None):
        path = os.path.join(OUT, name)
        if version is None:
            np.save(path, arr)
        else:
            with open(path, "wb") as f:
                np.lib.format.write_array(f, arr, version=version)
        back = np.load(path)
        assert back.dtype == arr.dtype and same(back, arr)

    save("np_f4_2d.npy", (np.arange(6, dtype=np.float32) - 2.5).reshape(2, 3))
    save("np_f8_scalar.npy", np.array(3.25, dtype=np.float64))
    save("np_f4_1d.npy", np.array([0.25, 0.5, 0.75, 1.0], dtype=np.float32))
    save("np_u1.npy", np.array([[0, 1], [128, 255]], dtype=np.uint8))
    save("np_f8_fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)))
    save("np_f4_v2.npy", np.array([1.5, -1.5, 8.0], dtype=np.float32), version=(2, 0))
    save("np_f4_empty.npy", np.zeros((0, 3), dtype=np.float32))
    save("np_f4_big_endian.npy", np.array([1.0, 2.0], dtype=">f4"))
    save("np_i8.npy", np.array([1, 2], dtype="<i8"))


def main():
    if len(sys.argv) > 1:
        for path in sys.argv[1:]:
            tensors, metadata = verify(path)
            print(path, "metadata", metadata)
            for name, (dtype, arr) in sorted(tensors.items()):
                print(f"  {name}: {dtype} {list(arr.shape)} {arr.ravel()[:8]}")
        return
    os.makedirs(OUT, exist_ok=True)
    if safetensors is None:
        print("note: the safetensors package is not installed; py_*.safetensors are written by "
              "this script's own writer")
    gen_safetensors()
    gen_npy()
    print("wrote", OUT)


if __name__ == "__main__":
    main()
