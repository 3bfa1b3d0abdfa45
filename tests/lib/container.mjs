// Helpers of the container tests (tests/e2e/release-image.test.mjs, deploy-container.test.mjs): whether
// buildah and podman can run here, whether this is a chroot, and Debian's docker-registry on loopback.
import { spawn } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './server.mjs';
import { have, run, tempDir } from './release.mjs';

// Why the image tests cannot run here, or false: root, the tools, and buildah and podman actually
// working (in a chroot without container storage they do not).
export function imageSkipReason() {
  if (process.getuid?.() !== 0) return 'needs root (podman, buildah)';
  const missing = ['buildah', 'podman', 'skopeo', 'docker-registry'].filter((t) => !have(t));
  if (missing.length) return `missing: ${missing.join(', ')}`;
  const probe = run('buildah', ['from', '--quiet', 'scratch']);
  if (probe.status !== 0) return `buildah cannot make a container here: ${probe.stderr.trim().split('\n').pop()}`;
  run('buildah', ['rm', probe.stdout.trim()]);
  const info = run('podman', ['--runtime', 'runc', 'info', '--format', '{{.Store.GraphDriverName}}']);
  if (info.status !== 0) return `podman cannot run here: ${info.stderr.trim().split('\n').pop()}`;
  return false;
}

// Inside a chroot (make test-fresh runs make test in one), a container runs, but `podman exec` and
// `podman healthcheck run` cannot start a process in it: runc looks the command up outside the
// container ("stat /usr/local/bin/musicgraph: no such file or directory"). The run on the machine
// itself covers those checks. tests/fresh/run says so with MUSICGRAPH_CHROOT=1; elsewhere a chroot
// shows as a root other than process 1's, where process 1's root may be read.
export function inChroot() {
  if (process.env.MUSICGRAPH_CHROOT === '1') return true;
  try {
    const here = statSync('/');
    const init = statSync('/proc/1/root/');
    return here.dev !== init.dev || here.ino !== init.ino;
  } catch {
    return false;
  }
}

// docker-registry serving plain HTTP on a free loopback port, deletes allowed: { repo, port, stop }.
export async function startRegistry() {
  const dir = tempDir('musicgraph-registry-');
  const port = await freePort();
  writeFileSync(join(dir, 'config.yml'), [
    'version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${dir}/data`,
    '  delete:', '    enabled: true', 'http:', `  addr: 127.0.0.1:${port}`, ''].join('\n'));
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false)); i++)
    await new Promise((r) => setTimeout(r, 100));
  return { repo: `127.0.0.1:${port}/musicgraph`, port, stop: () => child.kill() };
}
