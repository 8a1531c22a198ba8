/**
 * What every mask decoder shares: the error an invalid upload raises and the
 * bound an upload must respect (the image grid, or a voxel count), checked on
 * the header before anything is allocated or inflated.
 */

/** An upload that is not a valid mask in the format it claims. */
export class MaskFormatError extends Error {
  override name = 'MaskFormatError';
}

/**
 * What an uploaded mask may be: the grid of the image it labels (dims exactly;
 * spacing, when known, within 1%) or, where no grid is known, a voxel count.
 * Decoders check it from the header, before they allocate or inflate anything.
 */
export interface MaskBound {
  grid?: { dims: readonly [number, number, number]; spacing?: readonly [number, number, number] };
  /** Without a grid: at most this many voxels (default {@link DEFAULT_MAX_MASK_VOXELS} for NIfTI). */
  maxVoxels?: number;
}

/** Dense masks on an image of unknown grid: at most 2^27 voxels (512×512×512). */
export const DEFAULT_MAX_MASK_VOXELS = 2 ** 27;
/** Relative spacing difference tolerated between a mask and its image (float32 headers, rounding). */
const SPACING_TOLERANCE = 0.01;

export const gridText = (dims: readonly number[]): string => `[${dims.join('×')}]`;

/**
 * Checks a mask's declared grid against the bound; throws a {@link MaskFormatError}
 * naming both grids. Called on the header, before any voxel is read.
 */
export function checkMaskGrid(
  dims: readonly [number, number, number],
  spacing: readonly [number, number, number] | undefined,
  bound: MaskBound,
): void {
  const n = dims[0] * dims[1] * dims[2];
  const grid = bound.grid;
  if (grid) {
    if (dims.some((d, k) => d !== grid.dims[k])) {
      throw new MaskFormatError(`mask grid ${gridText(dims)} differs from the image grid ${gridText(grid.dims)}`);
    }
    const want = grid.spacing;
    if (want && spacing?.some((s, k) => !(Math.abs(s - want[k]) <= SPACING_TOLERANCE * want[k]))) {
      throw new MaskFormatError(`mask spacing [${spacing.join(', ')}] mm differs from the image spacing [${want.join(', ')}] mm`);
    }
    return;
  }
  if (bound.maxVoxels !== undefined && !(n <= bound.maxVoxels)) {
    throw new MaskFormatError(`mask grid ${gridText(dims)} has ${n} voxels, more than the ${bound.maxVoxels} allowed`);
  }
}
