#!/usr/bin/env node
// scripts/image-prune.mjs — image clean-up in a registry (`scripts/image prune REPO`).
//
//   node scripts/image-prune.mjs REPO [--keep N] [--dry-run]
//
// Every version is an image with two tags: VERSION and sha-COMMIT. Its channel follows from the
// version: builds between tags (X.Y.Z-N-gHASH, published from main to dev) are the "dev" channel,
// tagged versions (X.Y.Z, X.Y.Z-beta.N …, promoted to staging and production) the "release"
// channel. Clean-up keeps, per channel, the newest N versions (default 5) and every image that a
// channel tag (dev, staging, production, latest) or any tag it does not understand points at, and
// deletes the other images by digest — which removes all their tags at once (the registry API
// deletes manifests, not tags). The registry must allow deletes (docker-registry:
// storage.delete.enabled); its garbage collector frees the blobs afterwards.
//
// Talks to the registry through skopeo (list-tags, inspect, delete), so the same credentials and
// TLS settings apply as for push; REGISTRY_TLS_VERIFY=false for a plain-HTTP registry.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CHANNEL_TAGS = ['dev', 'staging', 'production', 'latest'];
const VERSION = /^(\d+)\.(\d+)\.(\d+)(?:-(alpha|beta|rc)\.(\d+))?(?:-(\d+)-g([0-9a-f]+))?$/;

// {channel, key} for a version tag, or null: key sorts versions of one channel oldest first.
export function parseVersion(tag) {
  const m = VERSION.exec(tag);
  if (!m) return null;
  const [, major, minor, patch, kind, n, commits] = m;
  // A release sorts after its pre-releases (Semantic Versioning); a dev build after its base tag.
  const pre = kind ? ['alpha', 'beta', 'rc'].indexOf(kind) : 3;
  return {
    channel: commits === undefined ? 'release' : 'dev',
    key: [major, minor, patch, pre, n || 0, commits || 0].map(Number),
  };
}

const compareKeys = (a, b) => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
};

// tags: {tag: digest}. Returns {keep: {tag: reason}, remove: {digest: [tags]}}.
export function planPrune(tags, keepN) {
  const protectedDigests = new Map(); // digest -> reason
  const versions = { dev: [], release: [] };
  for (const [tag, digest] of Object.entries(tags)) {
    if (CHANNEL_TAGS.includes(tag)) {
      if (!protectedDigests.has(digest)) protectedDigests.set(digest, `${tag} points at it`);
    }
    else if (/^sha-[0-9a-f]+$/.test(tag)) continue; // goes with its version
    else {
      const v = parseVersion(tag);
      if (v) versions[v.channel].push({ tag, digest, key: v.key });
      else if (!protectedDigests.has(digest)) protectedDigests.set(digest, `tag ${tag} is not a version`);
    }
  }
  const keepDigests = new Map(protectedDigests);
  for (const [channel, list] of Object.entries(versions)) {
    list.sort((a, b) => compareKeys(b.key, a.key));
    for (const { digest } of list.slice(0, keepN))
      if (!keepDigests.has(digest)) keepDigests.set(digest, `one of the newest ${keepN} in ${channel}`);
  }
  const keep = {};
  const remove = {};
  for (const [tag, digest] of Object.entries(tags)) {
    if (keepDigests.has(digest)) keep[tag] = keepDigests.get(digest);
    else (remove[digest] ||= []).push(tag);
  }
  return { keep, remove };
}

function skopeo(args) {
  const tls = `--tls-verify=${process.env.REGISTRY_TLS_VERIFY || 'true'}`;
  return execFileSync('skopeo', [args[0], tls, ...args.slice(1)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function main(argv) {
  const repo = argv[0];
  let keepN = 5;
  let dryRun = false;
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === '--keep' && /^\d+$/.test(argv[i + 1] || '') && Number(argv[i + 1]) > 0) keepN = Number(argv[++i]);
    else if (argv[i] === '--dry-run') dryRun = true;
    else throw new Error(`unexpected argument ${argv[i]} (REPO [--keep N>0] [--dry-run])`);
  }
  if (!repo) throw new Error('usage: scripts/image prune REPO [--keep N] [--dry-run]');
  const tags = {};
  for (const tag of JSON.parse(skopeo(['list-tags', `docker://${repo}`])).Tags || [])
    tags[tag] = skopeo(['inspect', '--format', '{{.Digest}}', `docker://${repo}:${tag}`]).trim();
  const { keep, remove } = planPrune(tags, keepN);
  for (const tag of Object.keys(keep).sort()) console.log(`keep    ${repo}:${tag} (${keep[tag]})`);
  for (const [digest, names] of Object.entries(remove)) {
    console.log(`${dryRun ? 'would delete' : 'delete '} ${repo}:${names.sort().join(', ')} (${digest})`);
    if (!dryRun) skopeo(['delete', `docker://${repo}@${digest}`]);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(`image prune: ${e.message}`);
    process.exit(1);
  }
}
