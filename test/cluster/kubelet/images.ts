/**
 * The images the simulated kubelet can run: image name → the host programs that image
 * provides. This table *is* how the fake "pulls": nothing is downloaded, no layer is
 * unpacked, there is no image filesystem — a container runs a host program with the
 * host's filesystem, plus the Pod's volumes mounted at their paths. A container whose
 * image is not in the table ends as `ErrImagePull` / `ImagePullBackOff`, as with a
 * registry that does not have it.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export interface ImageEntry {
  /** A container's `command[0]` (or the image's entrypoint) → the host argv prefix that runs it. */
  binaries: Record<string, string[]>;
  /** The image's ENTRYPOINT when the container sets no `command`. */
  entrypoint?: string[];
  /** The image's CMD: the arguments when the container sets neither `command` nor `args`. */
  cmd?: string[];
  /** The image's USER (uid) when the Pod's securityContext sets no `runAsUser`; root when unset. */
  user?: number;
  /**
   * The image's own files: host folders shown read-only at fixed paths in the container
   * (as an image's layers put them there), mounted before the Pod's volumes. So the
   * program keeps running when a volume covers the host folder it lives in (a runner
   * Pod's emptyDir at `/tmp` over a checkout in `/tmp`).
   */
  files?: { source: string; target: string }[];
}

/** Keyed by image name without tag (`ghcr.io/topas-dev/topas`) or with it (`x:v2`); the tagged key wins. */
export type ImageTable = Record<string, ImageEntry>;

/** An image reference split as a registry client reads it: `name[:tag][@digest]`, Docker Hub names normalized (`docker.io/library/busybox` → `busybox`). */
export interface ImageRef {
  name: string;
  tag: string;
}

export function parseImageRef(image: string): ImageRef {
  let rest = image.trim();
  const at = rest.indexOf('@');
  if (at >= 0) rest = rest.slice(0, at);
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  let tag = 'latest';
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  rest = rest.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '').replace(/^library\//, '');
  return { name: rest, tag };
}

/** The table's entry for an image (the tagged key wins over the bare name); null when this kubelet cannot "pull" it. */
export function lookupImage(table: ImageTable, image: string): ImageEntry | null {
  const { name, tag } = parseImageRef(image);
  return table[`${name}:${tag}`] ?? table[name] ?? null;
}

/** A stable, containerd-style image ID (`name@sha256:…`) derived from the reference, shown as `imageID` in container statuses. */
export function imageId(image: string): string {
  const { name, tag } = parseImageRef(image);
  const digest = createHash('sha256').update(`${name}:${tag}`).digest('hex');
  const full = name.includes('/') && name.split('/')[0]!.includes('.') ? name : `docker.io/${name.includes('/') ? '' : 'library/'}${name}`;
  return `${full}@sha256:${digest}`;
}

/** Host programs a small test image (`busybox`) provides, each run from the host's PATH. */
const BUSYBOX_COMMANDS = ['sh', 'sleep', 'echo', 'cat', 'ls', 'env', 'true', 'false', 'printf', 'test', 'wc', 'head', 'tail', 'id', 'pwd', 'touch', 'mkdir', 'rm', 'date', 'grep', 'kill'];

/** Where the runner image's files (this checkout) are inside a container, as in the real image. */
export const TOPAS_IMAGE_ROOT = '/opt/topas';

/**
 * The table the test cluster uses: the runner image `ghcr.io/topas-dev/topas` (any tag;
 * entrypoint `topas`, run as `node /opt/topas/bin/topas.js`, with this checkout shown at
 * /opt/topas) and `busybox` (shell tools from the host; no command → `sh`, which exits at
 * once as busybox's does without a TTY).
 */
export function defaultImageTable(repoRoot: string): ImageTable {
  const topas = [process.execPath, join(TOPAS_IMAGE_ROOT, 'bin', 'topas.js')];
  const busybox: ImageEntry = {
    binaries: Object.fromEntries(BUSYBOX_COMMANDS.map((c) => [c, [c === 'sh' ? '/bin/sh' : c]])),
    entrypoint: [],
    cmd: ['sh'],
  };
  return {
    'ghcr.io/topas-dev/topas': { binaries: { topas, kctrl: topas }, entrypoint: ['topas'], files: [{ source: repoRoot, target: TOPAS_IMAGE_ROOT }] },
    busybox,
  };
}
