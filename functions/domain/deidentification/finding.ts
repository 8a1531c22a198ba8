/**
 * What the de-identification gate reports about one image: the shared shape of
 * every inspector's findings (DICOM here; NIfTI, PNG and JPEG in
 * `../deidentification-formats.ts`), so the gate and the PM see one kind of thing.
 *
 * A finding names a place in the file (a DICOM tag and name, a NIfTI field, a
 * PNG chunk) and never the value found there: findings are stored on the case,
 * logged and shown to PMs, and echoing a patient's name there would leak what
 * the gate exists to stop.
 */

/** Image formats the gate tells apart by their leading bytes (and, for DICOM without a preamble, the `.dcm` name). */
export type ImageFormat = 'dicom' | 'nifti' | 'png' | 'jpeg' | 'netpbm' | 'unknown';

/** Why an image may not leave. */
export type GateRule =
  /** A PS3.15 Table E.1-1 attribute still carries a value the profile removes, empties or replaces. */
  | 'identifying-attribute'
  /** A UID (action U) outside the root the program requires for re-generated UIDs. */
  | 'uid-not-regenerated'
  /** Burned In Annotation (0028,0301) YES without an accepted Clean Pixel Data Option. */
  | 'burned-in-annotation'
  /** Recognizable Visual Features (0028,0302) YES without an accepted Clean Recognizable Visual Features Option. */
  | 'recognizable-visual-features'
  /** An attribute of an odd (private) group without an accepted Retain Safe Private Option. */
  | 'private-attribute'
  /** Free text in a non-DICOM header (NIfTI `descrip`, PNG tEXt, JPEG COM/EXIF/XMP) that may identify. */
  | 'identifying-text'
  /** A format the gate cannot inspect. */
  | 'uninspectable-format'
  /** The header cannot be read completely: truncated, malformed, over the size cap, or the image is missing. */
  | 'unreadable';

/** One reason the gate keeps an image away from vendors. */
export interface GateFinding {
  format: ImageFormat;
  rule: GateRule;
  /** Where: `(0010,0010) Patient's Name`, `descrip`, `tEXt "Author"`. Absent for a whole-file problem. */
  location?: string;
  /** One sentence a PM reads: the place, what the profile requires, what would allow it. Never the value. */
  message: string;
}
