/*
 * admin-audit.js — the audit log (/admin/audit?page=N): every change,
 * newest first, with before and after lined up and the changes marked.
 */
import { add, h } from './dom.js';
import { NUM, plural } from './text.js';
import { api, loadGraph, state, timeEl } from './admin-core.js';

const AUDIT_PER_PAGE = 50;

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = sortKeys(v[k]);
    return o;
  }
  return v;
}

function pretty(v) {
  return v == null ? '' : JSON.stringify(sortKeys(v), null, 2);
}

// Pretty JSON with sorted keys, one line per value, so before and after
// line up; lines missing from the other side are marked.
function jsonBlock(label, text, otherText, mark) {
  const other = new Map();
  for (const l of otherText ? otherText.split('\n') : []) other.set(l, (other.get(l) || 0) + 1);
  // Focusable: a long line scrolls sideways, which a keyboard must reach too.
  const pre = h('pre', { class: 'json', tabindex: '0', 'aria-label': label });
  if (!text) {
    pre.append(h('span', { class: 'muted' }, 'nothing'));
  } else {
    for (const line of text.split('\n')) {
      const n = other.get(line) || 0;
      const changed = otherText !== null && n === 0;
      if (n) other.set(line, n - 1);
      pre.append(h('span', { class: 'line' + (changed ? ' line-' + mark : '') }, line), '\n');
    }
  }
  return h('div', { class: 'json-side', dataset: { side: label.toLowerCase() } }, [h('p', { class: 'json-label' }, label), pre]);
}

function changedKeys(before, after) {
  if (!before || !after || typeof before !== 'object' || typeof after !== 'object') return null;
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => JSON.stringify(sortKeys(before[k])) !== JSON.stringify(sortKeys(after[k]))).sort();
}

export async function pageAudit(view, page, seq) {
  const [data, g] = await Promise.all([
    api('GET', '/api/v1/audit?page=' + page + '&per_page=' + AUDIT_PER_PAGE),
    loadGraph().catch(() => null),
  ]);
  if (seq !== state.seq) return '';
  const entries = data.entries || [];
  const per = data.per_page || AUDIT_PER_PAGE;
  const total = data.total || 0;
  const pages = Math.max(1, Math.ceil(total / per));
  const cur = data.page || page;

  function entityCell(e) {
    const id = e.entity_id == null ? '' : String(e.entity_id);
    let link = null;
    if (e.entity_type === 'genre' && g && g.genres.has(id)) link = '/admin/genres/' + encodeURIComponent(id) + '/edit';
    if (e.entity_type === 'band' && g && g.bands.has(id)) link = '/admin/bands/' + encodeURIComponent(id) + '/edit';
    if (e.entity_type === 'user') link = '/admin/users';
    const idNode = link ? h('a', { href: link }, id) : h('code', null, id);
    return [h('span', { class: 'entity-type' }, e.entity_type || ''), ' ', idNode];
  }

  const tbody = h('tbody');
  for (const e of entries) {
    const before = pretty(e.before);
    const after = pretty(e.after);
    const keys = changedKeys(e.before, e.after);
    const change = h('div', { class: 'change' }, [
      keys ? h('p', { class: 'changed-keys' }, keys.length ? 'Changed: ' + keys.join(', ') : 'No field changed') : null,
      h('div', { class: 'json-pair' + (e.before != null && e.after != null ? ' json-pair-2' : '') }, [
        e.before != null ? jsonBlock('Before', before, e.after == null ? null : after, 'del') : null,
        e.after != null ? jsonBlock('After', after, e.before == null ? null : before, 'ins') : null,
      ]),
    ]);
    tbody.append(
      h('tr', { dataset: { id: String(e.id) } }, [
        h('td', { class: 'cell-when', dataset: { label: 'When' } }, timeEl(e.at)),
        h('td', { dataset: { label: 'Who' } }, e.actor == null ? '—' : String(e.actor)),
        h('td', { dataset: { label: 'Action' } }, h('span', { class: 'badge badge-action-' + String(e.action || '').replace(/[^a-z]/g, '') }, e.action || '')),
        h('td', { class: 'cell-entity', dataset: { label: 'Entity' } }, entityCell(e)),
        h('td', { class: 'cell-change' }, change),
      ]),
    );
  }
  if (!entries.length) tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: '5' }, total ? 'No entries on this page.' : 'No change recorded yet.')));

  const pager = () =>
    h('nav', { class: 'pager', 'aria-label': 'Audit pages' }, [
      cur > 1 ? h('a', { class: 'button', href: '/admin/audit?page=' + (cur - 1), rel: 'prev' }, '← Newer') : h('span', { class: 'button is-disabled', 'aria-disabled': 'true' }, '← Newer'),
      h('span', { class: 'pager-info' }, 'Page ' + NUM.format(cur) + ' of ' + NUM.format(pages)),
      cur < pages ? h('a', { class: 'button', href: '/admin/audit?page=' + (cur + 1), rel: 'next' }, 'Older →') : h('span', { class: 'button is-disabled', 'aria-disabled': 'true' }, 'Older →'),
    ]);

  add(view, 
    h('div', { class: 'page-head' }, [h('h1', { tabindex: '-1' }, 'Audit log')]),
    h('p', { class: 'count' }, plural(total, 'change', 'changes') + ', newest first'),
    pager(),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table table-cards table-audit', id: 'audit-table' }, [
      h('caption', { class: 'visually-hidden' }, 'Audit log, newest first'),
      h('thead', null, h('tr', null, ['When', 'Who', 'Action', 'Entity', 'Change'].map((c) => h('th', { scope: 'col' }, c)))),
      tbody,
    ])),
    total > per ? pager() : null,
  );
  return cur > 1 ? 'Audit log, page ' + cur : 'Audit log';
}
