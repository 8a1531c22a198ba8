#!/usr/bin/python3
"""Reference values for Goldline's segmentation metrics (numpy + scipy).

MONAI is not installed here, so its definitions are replicated with scipy
(METRICS.md, "Segmentation"):
  surface  = mask XOR binary_erosion(mask)   (6-connectivity in 3D, 4 in 2D,
             border_value=0: out-of-volume is background; MONAI get_mask_edges)
  d(A->B)  = distance_transform_edt(~surface_B, sampling=spacing)[surface_A]
             (MONAI get_surface_distance)
  HD       = max of both directed maxima
  HD95     = max of both directed np.percentile(d, 95)  (linear interpolation)
  ASSD     = mean of the pooled distances of both directions
  NSD(t)   = (#d(A->B) <= t + #d(B->A) <= t) / (|dA| + |dB|)
             (MONAI compute_surface_dice, use_subvoxels=False)
  one mask empty -> HD/HD95/ASSD inf, NSD 0; both empty -> NaN.
  Dice     = 2|A&B|/(|A|+|B|), IoU = |A&B|/|A|B|; one empty -> 0, both -> NaN.

Arrays are indexed [z, y, x] (C order), so .ravel() is the x-fastest linear
index Goldline uses; spacing is passed to scipy as (sz, sy, sx). A mask with
nz = 1 is 2D (2D arrays, 4-connected erosion).

Regenerate the committed fixture (deterministic, seeded):
    /usr/bin/python3 scripts/reference/segmentation_reference.py fixtures \
        > test/fixtures/reference/segmentation.json

Benchmark reference (called by test/bench/scoring-segmentation.bench.ts):
    /usr/bin/python3 scripts/reference/segmentation_reference.py bench [--full]
  --full runs the EDT on the whole 512x512x256 volume (about 35 s per direction);
  otherwise on the union bounding box with a 1-voxel margin, as MONAI crops.
"""
import json
import sys
import time

import numpy as np
from scipy import ndimage

TOLERANCES = [0.5, 1.0, 2.0, 3.0]


def tol_key(t):
    """The key JavaScript gives a number: 1.0 -> '1', 0.5 -> '0.5'."""
    return format(t, "g")


# ------------------------------------------------------------------ metrics

def surface(mask):
    return mask & ~ndimage.binary_erosion(mask, border_value=0)


def directed(edges_a, edges_b, spacing_zyx):
    return ndimage.distance_transform_edt(~edges_b, sampling=spacing_zyx)[edges_a]


def overlap(a, b):
    sa, sb, inter = int(a.sum()), int(b.sum()), int((a & b).sum())
    if sa + sb == 0:
        return float("nan"), float("nan")
    if sa == 0 or sb == 0:
        return 0.0, 0.0
    return 2 * inter / (sa + sb), inter / (sa + sb - inter)


def surface_metrics(a, b, spacing_zyx, tolerances):
    ea, eb = surface(a), surface(b)
    na, nb = int(ea.sum()), int(eb.sum())
    out = {"surfaceVoxels": {"a": na, "b": nb}}
    if na == 0 and nb == 0:
        nan = float("nan")
        out.update(hd=nan, hd95=nan, assd=nan, nsd={tol_key(t): nan for t in tolerances})
        return out
    if na == 0 or nb == 0:
        inf = float("inf")
        out.update(hd=inf, hd95=inf, assd=inf, nsd={tol_key(t): 0.0 for t in tolerances})
        return out
    dab = directed(ea, eb, spacing_zyx)
    dba = directed(eb, ea, spacing_zyx)
    pooled = np.concatenate([dab, dba])
    out.update(
        hd=float(max(dab.max(), dba.max())),
        hd95=float(max(np.percentile(dab, 95), np.percentile(dba, 95))),
        assd=float(pooled.mean()),
        nsd={tol_key(t): float(((dab <= t).sum() + (dba <= t).sum()) / pooled.size) for t in tolerances},
    )
    return out


# ------------------------------------------------------------------ fixtures

def runs_of(mask):
    """start,length pairs of the x-fastest linear index (goldline-rle3d/1)."""
    flat = np.concatenate([[0], mask.ravel().astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(flat))
    starts, ends = edges[0::2], edges[1::2]
    return np.stack([starts, ends - starts], axis=1).ravel().tolist()


def rle_doc(labels_map, dims, spacing):
    labels = [int(v) for v in np.unique(labels_map) if v != 0] or [1]
    return {
        "format": "goldline-rle3d/1",
        "dims": dims,
        "spacing": spacing,
        "labels": [{"label": l, "runs": runs_of(labels_map == l)} for l in labels],
    }


def jsonable(v):
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, float) and np.isinf(v):
        return "Infinity"
    return v


def blobs(rng, shape, sigma, fraction):
    field = ndimage.gaussian_filter(rng.rand(*shape), sigma)
    return field > np.quantile(field, 1 - fraction), field


def perturbed(rng, field, sigma, fraction, weight):
    other = field + weight * ndimage.gaussian_filter(rng.rand(*field.shape), sigma)
    return other > np.quantile(other, 1 - fraction)


def make_cases():
    rng = np.random.RandomState(20240611)
    cases = []

    def add(name, a, b, spacing_xyz, label=None, note=""):
        shape = a.shape if a.ndim == 3 else (1,) + a.shape
        dims = [int(shape[2]), int(shape[1]), int(shape[0])]
        sel_a = a == label if label is not None else a != 0
        sel_b = b == label if label is not None else b != 0
        spacing_zyx = tuple(reversed(spacing_xyz))[-a.ndim:]
        d, j = overlap(sel_a, sel_b)
        expected = {"dice": d, "iou": j, **surface_metrics(sel_a, sel_b, spacing_zyx, TOLERANCES)}
        case = {
            "name": name,
            "note": note,
            "label": label,
            "tolerances": TOLERANCES,
            "a": rle_doc(a, dims, spacing_xyz),
            "b": rle_doc(b, dims, spacing_xyz),
            "expected": jsonable(expected),
        }
        if label is not None:
            labels = sorted({int(v) for v in np.unique(np.concatenate([a.ravel(), b.ravel()])) if v != 0})
            case["dicePerLabel"] = {str(l): jsonable(overlap(a == l, b == l)[0]) for l in labels}
        cases.append(case)

    shape = (9, 18, 20)  # nz, ny, nx
    for k, spacing in enumerate([[0.7, 0.7, 2.5], [1.0, 1.0, 1.0], [0.5, 0.8, 3.0], [1.2, 0.6, 1.5]]):
        a, field = blobs(rng, shape, 1.6, 0.3)
        b = perturbed(rng, field, 1.6, 0.3, 0.6)
        add(f"random-blobs-{k}", a.astype(np.uint8), b.astype(np.uint8), spacing, note="smoothed noise, touches borders")
    a, field = blobs(rng, (12, 16, 14), 2.0, 0.15)
    b = perturbed(rng, field, 2.0, 0.25, 1.0)
    add("random-blobs-disagreeing", a.astype(np.uint8), b.astype(np.uint8), [0.9, 0.9, 2.0])

    a = np.zeros(shape, np.uint8)
    b = np.zeros(shape, np.uint8)
    a[4, 9, 10] = 1
    b[6, 3, 2] = 1
    add("single-voxels", a, b, [0.7, 0.7, 2.5], note="one voxel each, apart")
    b = a.copy()
    add("single-voxel-identical", a, b, [0.7, 0.7, 2.5])

    full = np.ones(shape, np.uint8)
    inner = np.zeros(shape, np.uint8)
    inner[1:-1, 2:-2, 3:-3] = 1
    add("border-full-volume", full, inner, [0.8, 0.8, 2.0], note="mask filling the volume: surface on the border")

    a, _ = blobs(rng, shape, 1.6, 0.3)
    add("one-empty", a.astype(np.uint8), np.zeros(shape, np.uint8), [0.7, 0.7, 2.5])
    add("both-empty", np.zeros(shape, np.uint8), np.zeros(shape, np.uint8), [0.7, 0.7, 2.5])

    a2, field2 = blobs(rng, (24, 22), 2.0, 0.35)
    b2 = perturbed(rng, field2, 2.0, 0.35, 0.5)
    add("2d-blobs", a2.astype(np.uint8), b2.astype(np.uint8), [0.5, 0.8, 1.0], note="nz = 1: 4-connected surface")

    _, fa = blobs(rng, shape, 1.8, 0.5)
    fb = fa + 0.4 * ndimage.gaussian_filter(rng.rand(*shape), 1.8)
    qa, qb = np.quantile(fa, [0.4, 0.6, 0.8]), np.quantile(fb, [0.4, 0.6, 0.8])
    la = np.digitize(fa, qa).astype(np.uint8)
    lb = np.digitize(fb, qb).astype(np.uint8)
    add("multi-label-2", la, lb, [0.7, 0.9, 2.5], label=2, note="labels 1..3, label 2 scored")
    return cases


# ------------------------------------------------------------------ bench

def ellipsoid(dims, centre, radii):
    """Integer form of ((x-cx)/rx)^2 + ... <= 1, exact in int64 (same as the TS bench)."""
    nx, ny, nz = dims
    cx, cy, cz = centre
    rx, ry, rz = radii
    kx, ky, kz = ry * ry * rz * rz, rx * rx * rz * rz, rx * rx * ry * ry
    lim = rx * rx * ry * ry * rz * rz
    x = np.arange(nx, dtype=np.int64)
    y = np.arange(ny, dtype=np.int64)
    txy = ((x - cx) ** 2 * kx)[None, :] + ((y - cy) ** 2 * ky)[:, None]
    out = np.empty((nz, ny, nx), dtype=bool)
    for z in range(nz):
        np.less_equal(txy + (z - cz) ** 2 * kz, lim, out=out[z])
    return out


def bench(argv):
    spec = json.loads(argv[argv.index("--spec") + 1])
    full = "--full" in argv
    dims, spacing = spec["dims"], spec["spacing"]
    a = ellipsoid(dims, spec["a"]["centre"], spec["a"]["radii"])
    b = ellipsoid(dims, spec["b"]["centre"], spec["b"]["radii"])

    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        inter = np.count_nonzero(a & b)
        dice = 2 * inter / (np.count_nonzero(a) + np.count_nonzero(b))
        best = min(best, time.perf_counter() - t0)
    dice_ms = best * 1000

    t0 = time.perf_counter()
    if not full:
        # MONAI get_mask_edges(crop=True): union bounding box plus a 1-voxel margin, zero-padded.
        nzidx = np.nonzero(a | b)
        lo = [int(i.min()) - 1 for i in nzidx]
        hi = [int(i.max()) + 2 for i in nzidx]
        pad = [(max(0, -l), max(0, h - s)) for l, h, s in zip(lo, hi, a.shape)]
        sl = tuple(slice(max(0, l), min(s, h)) for l, h, s in zip(lo, hi, a.shape))
        a, b = np.pad(a[sl], pad), np.pad(b[sl], pad)
    spacing_zyx = tuple(reversed(spacing))
    m = surface_metrics(a, b, spacing_zyx, spec["tolerances"])
    edt_ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({
        "dice": dice, "diceMs": dice_ms, "surfaceMs": edt_ms,
        "region": "full volume" if full else "union bounding box + 1-voxel margin (MONAI crop)",
        "regionShape": list(a.shape), **jsonable(m),
    }))


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "fixtures"
    if mode == "bench":
        bench(sys.argv)
        return
    doc = {
        "generator": "scripts/reference/segmentation_reference.py (numpy %s, scipy %s)"
        % (np.__version__, __import__("scipy").__version__),
        "conventions": "Infinity as the string 'Infinity', undefined (NaN) as null",
        "cases": make_cases(),
    }
    json.dump(doc, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
