#!/usr/bin/python3
"""Writes the fixtures of the PyTorch checkpoint and NumPy .npz readers into tests/data/:

  torch_checkpoint_legacy.pth   torch.save(..., _use_new_zipfile_serialization=False)
  torch_checkpoint_zip.pth      torch.save(..., _use_new_zipfile_serialization=True)
      the same small OrderedDict state dict (with a module-like `_metadata` attribute): views that
      share one storage (an OIHW permute of HWIO data, as pytorch-fid's Inception conv weights are
      stored, and a transpose of it), a strided slice at a storage offset, a transposed matrix,
      float32, float64, int64 and uint8 tensors, a 0-d tensor, an empty one and an nn.Parameter;
  npz_savez.npz                 numpy.savez (stored members)
  npz_savez_compressed.npz      numpy.savez_compressed (deflated members)
      f4, f8, i8 and u1 arrays, a 0-d one, an empty one and a Fortran-order one, plus a small
      pytorch-fid-like statistics pair `mu` [8], `sigma` [8, 8] float64;
  torch_checkpoint_expected.safetensors
      the expected contiguous values: "pth.<name>" for the checkpoints, "npz.<name>" for the archives.

When the shared FID Inception folder (inception-fid-partial in $GANTRY_SHARED_DIR, by default the
folder `shared` beside the repository) is present, it also writes pt_inception_storage_refs.tsv: for each of the 566 keys of the truncated
real checkpoint, its storage key, storage offset, the storage's element count, its position in the
file's storage list and the file offset of its data, read with Python's own unpickler (classes
stubbed, nothing of the file executed), as an independent reference for the C++ reader.

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_torch_checkpoint_fixtures.py"""
import collections
import io
import json
import os
import pickle
import struct

import numpy as np
import torch

SEED = 20240812
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
SHARED = os.path.join(os.environ.get("GANTRY_SHARED_DIR", os.path.join(HERE, "..", "..", "..", "shared")),
                      "inception-fid-partial")
REAL_PTH = "pt_inception-2015-12-05-6726825d.TRUNCATED_818371B.pth"

SAFETENSORS_DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.uint8: "U8"}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors:
        t = t.detach().contiguous().cpu()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": SAFETENSORS_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for b in blobs:
            f.write(b)


def state_dict():
    g = torch.Generator().manual_seed(SEED)
    hwio = torch.randn(2, 3, 2, 4, generator=g)  # kh, kw, in, out, as TensorFlow stores conv kernels
    sd = collections.OrderedDict()
    sd["conv.weight"] = hwio.permute(3, 2, 0, 1)  # OIHW view, strides (1, 4, 24, 8)
    sd["conv.weight_flat_t"] = hwio.view(12, 4).t()  # the same storage, another view
    sd["conv.bias"] = torch.randn(4, generator=g)
    wide = torch.randn(20, generator=g, dtype=torch.float64)
    sd["offset_view"] = wide[5:17].view(3, 4)[:, ::2]  # storage offset 5, strides (4, 2)
    sd["fc.weight"] = torch.randn(5, 3, generator=g).t()  # strides (1, 3)
    sd["steps"] = torch.tensor(7, dtype=torch.int64)
    sd["index"] = torch.tensor([-3, 2 ** 40, 5], dtype=torch.int64)
    sd["mask"] = torch.tensor([0, 1, 255, 7], dtype=torch.uint8)
    sd["scale"] = torch.tensor(0.25, dtype=torch.float32)
    sd["empty"] = torch.zeros(0, 3)
    sd["param"] = torch.nn.Parameter(torch.randn(2, 2, generator=g))
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("conv", {"version": 2})])
    return sd


def npz_arrays():
    rng = np.random.default_rng(SEED)
    sigma_root = rng.standard_normal((8, 8))
    return {
        "f4": rng.standard_normal((2, 3)).astype("<f4"),
        "f8": rng.standard_normal(5).astype("<f8"),
        "i8": np.array([[-1, 2 ** 40], [3, -2 ** 62]], dtype="<i8"),
        "u1": np.arange(0, 250, 37, dtype="|u1").reshape(7, 1),
        "scalar": np.array(1.5, dtype="<f8"),
        "empty": np.zeros((0, 4), dtype="<f4"),
        "fortran": np.asfortranarray(rng.standard_normal((3, 4, 2)).astype("<f4")),
        "mu": rng.standard_normal(8),
        "sigma": sigma_root @ sigma_root.T,
    }


def inception_refs(path, out):
    """Storage references of the truncated real checkpoint, via Python's unpickler with stub classes."""
    data = open(path, "rb").read()
    f = io.BytesIO(data)
    for _ in range(3):  # magic, protocol, sys_info
        pickle.load(f)

    class Stub(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return lambda *args: args
            if module == "torch" and name.endswith("Storage"):
                return name
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            raise pickle.UnpicklingError(f"{module}.{name}")

        def persistent_load(self, pid):
            return pid

    sd = Stub(f).load()
    keys = pickle.load(f)
    sizes = {"FloatStorage": 4, "LongStorage": 8}
    storages = {}
    for args in sd.values():
        _, kind, key, _, numel, _ = args[0]
        storages[key] = (kind, numel)
    position, data_offset, at = {}, {}, f.tell()
    for i, key in enumerate(keys):
        position[key] = i
        data_offset[key] = at + 8
        kind, numel = storages[key]
        at += 8 + numel * sizes[kind]
    with open(out, "w") as o:
        o.write("key\tstorage_key\tstorage_offset\tstorage_numel\tstorage_index\tdata_offset\n")
        for name, args in sd.items():
            key = args[0][2]
            o.write(f"{name}\t{key}\t{args[1]}\t{args[0][4]}\t{position[key]}\t{data_offset[key]}\n")
    print(f"wrote {out} (complete file: {at} bytes)")


def main():
    sd = state_dict()
    torch.save(sd, os.path.join(DATA, "torch_checkpoint_legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(sd, os.path.join(DATA, "torch_checkpoint_zip.pth"), _use_new_zipfile_serialization=True)
    arrays = npz_arrays()
    np.savez(os.path.join(DATA, "npz_savez.npz"), **arrays)
    np.savez_compressed(os.path.join(DATA, "npz_savez_compressed.npz"), **arrays)
    expected = [("pth." + k, v.detach().contiguous()) for k, v in sd.items()]
    expected += [("npz." + k, torch.from_numpy(v.copy(order="C"))) for k, v in arrays.items()]
    write_safetensors(os.path.join(DATA, "torch_checkpoint_expected.safetensors"), expected)
    if os.path.exists(os.path.join(SHARED, REAL_PTH)):
        inception_refs(os.path.join(SHARED, REAL_PTH), os.path.join(DATA, "pt_inception_storage_refs.tsv"))
    else:
        print(f"{SHARED} is absent: pt_inception_storage_refs.tsv left as it is")


if __name__ == "__main__":
    main()
