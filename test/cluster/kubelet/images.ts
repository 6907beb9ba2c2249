/**
 * The images the simulated kubelet can run (STUB — being written): image name →
 * the host programs that image provides. A container whose image is not here ends
 * as ErrImagePull / ImagePullBackOff, as with a registry that does not have it.
 */
export interface ImageEntry {
  /** A container's `command[0]` (or the image's entrypoint) → the host argv prefix that runs it. */
  binaries: Record<string, string[]>;
  /** The image's ENTRYPOINT when the container sets no `command`. */
  entrypoint?: string[];
}

/** Keyed by image name without tag (`ghcr.io/topas-dev/topas`) or with it (`x:v2`); the tagged key wins. */
export type ImageTable = Record<string, ImageEntry>;
