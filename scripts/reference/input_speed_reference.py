#!/usr/bin/python3
"""Python baseline for the input-speed bench (test/bench/input-speed.bench.ts).

On the same files the bench writes, times what a Python pipeline does to get
the voxels into memory and the dense Dice from them:
  read  = nib.load(path, mmap=False) + np.asanyarray(img.dataobj)
          (uint8 as stored, no float conversion; mmap=False so the voxels are
          in memory, as Goldline's readNifti has them)
  dice  = 2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))
          on the uint8 arrays read (a 0/1 pair, so a & b is the intersection)
  dice per label = the same for each label l of a 3-label pair (foreground voxel
          of slab z // SLAB gets label 1 + z // SLAB), on (a == l) and (b == l)

Usage: /usr/bin/python3 scripts/reference/input_speed_reference.py DIR READ_REPEAT DICE_REPEAT
(DIR holds a.nii, b.nii, a.nii.gz, b.nii.gz). Prints one JSON object: best of
the repeats in wall-clock and CPU milliseconds per step (both files of the pair), the Dice value, the
dtype and shape read, and the library versions.
"""
import gc
import json
import os
import sys
import time

import nibabel as nib
import numpy as np


def best_ms(fn, repeat):
    """Best wall-clock and best CPU (process_time: user + system) milliseconds of `repeat` runs, after one GC."""
    wall, cpu, result = float("inf"), float("inf"), None
    gc.collect()
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        c1, w1 = time.process_time(), time.perf_counter()
        wall, cpu = min(wall, w1 - w0), min(cpu, c1 - c0)
    return {"wallMs": wall * 1000, "cpuMs": cpu * 1000}, result


def read_pair(folder, ext):
    return tuple(
        np.asanyarray(nib.load(os.path.join(folder, f"{n}.{ext}"), mmap=False).dataobj) for n in ("a", "b")
    )


def dice(a, b):
    return 2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


SLAB = 86  # 256 slices: labels 1, 2, 3


def labelled(mask):
    """A 0/1 mask as 3 labels by z slab (input-speed.bench.ts `labelled`); nibabel's arrays are [x, y, z]."""
    return mask * (1 + np.arange(mask.shape[2], dtype=np.uint8) // SLAB)[None, None, :]


def dice_per_label(a, b):
    out = {}
    for label in range(1, 4):
        la, lb = a == label, b == label
        out[str(label)] = 2 * np.count_nonzero(la & lb) / (np.count_nonzero(la) + np.count_nonzero(lb))
    return out


def main():
    folder, read_repeat, dice_repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    nii_ms, (a, b) = best_ms(lambda: read_pair(folder, "nii"), read_repeat)
    gz_ms, (ga, gb) = best_ms(lambda: read_pair(folder, "nii.gz"), read_repeat)
    if not (np.array_equal(a, ga) and np.array_equal(b, gb)):
        raise SystemExit(".nii and .nii.gz hold different voxels")
    dice_ms, value = best_ms(lambda: dice(a, b), dice_repeat)
    la, lb = labelled(a), labelled(b)
    per_label_ms, per_label = best_ms(lambda: dice_per_label(la, lb), read_repeat)
    print(json.dumps({
        "readNii": nii_ms,
        "readGz": gz_ms,
        "dice": dice_ms,
        "diceValue": value,
        "perLabel": per_label_ms,
        "perLabelValues": per_label,
        "dtype": str(a.dtype),
        "shape": list(a.shape),
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "nibabel": nib.__version__},
    }))


if __name__ == "__main__":
    main()
