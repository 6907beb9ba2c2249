/**
 * The images the simulated kubelet can run: image name → the host programs that image
 * provides. This table *is* how the fake "pulls": nothing is downloaded, no layer is
 * unpacked, there is no image filesystem — a container runs a host program with the
 * host's filesystem, plus the Pod's volumes mounted at their paths. A container whose
 * image is not in the table ends as `ErrImagePull` / `ImagePullBackOff`, as with a
 * registry that does not have it.
 *
 * Images that serve ports listen on the Pod's IP, as a real container listening on
 * 0.0.0.0 in its own network namespace is reached at the Pod's IP: there is no network
 * namespace here, so an image's entrypoint finds that IP (`hostname -i`, answered by
 * the Pod's /etc/hosts) and listens there alone — two Pods of one image on one port do
 * not collide, and `localhost` in a Pod is the host's, not the Pod's.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findPostgres } from '../../../src/apps/local/postgres-binaries.js';

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
  /** The image's ENV: the container's environment before its own `env`/`envFrom`. */
  env?: Record<string, string>;
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
const BUSYBOX_COMMANDS = ['sh', 'sleep', 'echo', 'cat', 'ls', 'env', 'true', 'false', 'printf', 'test', 'wc', 'head', 'tail', 'id', 'pwd', 'touch', 'mkdir', 'rm', 'date', 'grep', 'kill', 'getent', 'hostname', 'wget'];

/** Where the runner image's files (this checkout) are inside a container, as in the real image. */
export const TOPAS_IMAGE_ROOT = '/opt/topas';

/** The PATH of a typical image, after an image's own folders. */
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** PostgreSQL programs the `postgres` image offers (besides its entrypoint). */
const POSTGRES_COMMANDS = ['postgres', 'psql', 'pg_isready', 'initdb', 'pg_ctl', 'createdb', 'dropdb', 'createuser', 'pg_dump', 'pg_restore'];

/** Where the host's PostgreSQL programs are (the folder of `postgres`), or why there are none. */
export function hostPostgresBin(pathEnv: string): { ok: true; dir: string } | { ok: false; reason: string } {
  const found = findPostgres(pathEnv);
  if (!found.ok) return found;
  // Its real folder (PATH may hold a symlink to /usr/lib/postgresql/<v>/bin/postgres), where psql is too.
  const dir = dirname(realpathSync(found.binaries.postgres));
  try {
    accessSync(join(dir, 'psql'), constants.X_OK);
  } catch {
    return { ok: false, reason: `no psql beside ${found.binaries.postgres}` };
  }
  return { ok: true, dir };
}

/**
 * `topas/demo-users:<tag>` (tags v1 and v2): the demo server of examples/apps/demo with
 * `APP_VERSION` = the tag, listening on the Pod's IP (`--port`/`--grpc-port` default to
 * 8080/50051, or PORT/GRPC_PORT).
 */
function demoUsers(repoRoot: string, tag: string): ImageEntry {
  const entrypoint = ['/bin/sh', join(repoRoot, 'test', 'cluster', 'kubelet', 'image-files', 'demo-users-entrypoint.sh'), process.execPath, join(repoRoot, 'examples', 'apps', 'demo', 'server.js')];
  return {
    binaries: { 'demo-users': entrypoint, node: [process.execPath], sh: ['/bin/sh'] },
    entrypoint: ['demo-users'],
    cmd: [],
    env: { APP_VERSION: tag },
  };
}

/**
 * `postgres` (any tag): the host's PostgreSQL server behind `docker-entrypoint.sh`
 * (image-files/postgres-entrypoint.sh, the official script's behaviour that matters:
 * POSTGRES_USER/PASSWORD/DB, PGDATA, initdb when empty, listen on the Pod's IP, drop root
 * to the host's `postgres` user), plus psql, pg_isready and friends. The tag is not
 * checked against the host's version.
 */
function postgresImage(repoRoot: string, binDir: string): ImageEntry {
  return {
    binaries: {
      'docker-entrypoint.sh': ['/bin/sh', join(repoRoot, 'test', 'cluster', 'kubelet', 'image-files', 'postgres-entrypoint.sh')],
      ...Object.fromEntries(POSTGRES_COMMANDS.map((c) => [c, [join(binDir, c)]])),
      sh: ['/bin/sh'],
      bash: ['/bin/bash'],
    },
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['postgres'],
    env: { PATH: `${binDir}:${IMAGE_PATH}`, PGDATA: '/var/lib/postgresql/data' },
  };
}

/**
 * The table the test cluster uses: the runner image `ghcr.io/topas-dev/topas` (any tag;
 * entrypoint `topas`, run as `node /opt/topas/bin/topas.js`, with this checkout shown at
 * /opt/topas), `busybox` (shell tools from the host, `getent` too; no command → `sh`,
 * which exits at once as busybox's does without a TTY), `topas/demo-users:v1|v2` and —
 * when the host has PostgreSQL's server programs (`pathEnv` and /usr/lib/postgresql/*\/bin
 * are searched) — `postgres`.
 */
export function defaultImageTable(repoRoot: string, pathEnv: string = process.env.PATH ?? ''): ImageTable {
  const topas = [process.execPath, join(TOPAS_IMAGE_ROOT, 'bin', 'topas.js')];
  const postgres = hostPostgresBin(pathEnv);
  const busybox: ImageEntry = {
    binaries: Object.fromEntries(BUSYBOX_COMMANDS.map((c) => [c, [c === 'sh' ? '/bin/sh' : c]])),
    entrypoint: [],
    cmd: ['sh'],
  };
  return {
    'ghcr.io/topas-dev/topas': { binaries: { topas, kctrl: topas }, entrypoint: ['topas'], files: [{ source: repoRoot, target: TOPAS_IMAGE_ROOT }] },
    busybox,
    'topas/demo-users:v1': demoUsers(repoRoot, 'v1'),
    'topas/demo-users:v2': demoUsers(repoRoot, 'v2'),
    ...(postgres.ok ? { postgres: postgresImage(repoRoot, postgres.dir) } : {}),
  };
}
