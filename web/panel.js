/*
 * panel.js — the detail panel of a genre or a band. It renders at once from
 * the map's data, then again when the details (description, related genres,
 * similar bands) arrive.
 */
import { getJSON } from './api.js';
import { h } from './dom.js';
import { colorOfGenre, decade, el, linkTo, nameOf, state } from './model.js';
import { RELATION_TEXT, pathFinder, renderPathResult } from './path.js';

function linkList(kind, items, emptyText) {
  if (!items.length) return h('p', { class: 'empty', text: emptyText });
  const ul = h('ul', { class: 'link-list' });
  for (const it of items) ul.appendChild(h('li', null, [linkTo(kind, it.id, it.name)]));
  return ul;
}

function section(title, content, count) {
  const head = h('h3', { text: title });
  if (typeof count === 'number') head.appendChild(h('span', { class: 'count', text: String(count) }));
  return h('section', { class: 'panel-section' }, [head, content]);
}

function fact(label, value) {
  return [h('dt', { text: label }), h('dd', null, [typeof value === 'string' ? document.createTextNode(value) : value])];
}

export function showPanel(kind, id) {
  if (el.panel.dataset.kind !== kind || el.panel.dataset.id !== id) delete el.panel.dataset.path;
  el.panel.hidden = false;
  el.panel.dataset.kind = kind;
  el.panel.dataset.id = id;
  document.body.classList.add('panel-open');
}

export function hidePanel() {
  el.panel.hidden = true;
  delete el.panel.dataset.kind;
  delete el.panel.dataset.id;
  delete el.panel.dataset.loaded;
  delete el.panel.dataset.path;
  document.body.classList.remove('panel-open');
}

export function renderPanel(kind, id) {
  showPanel(kind, id);
  const seq = ++state.detailSeq;
  el.panelBody.replaceChildren();
  delete el.panel.dataset.loaded;
  // Parts that outlive the second render (when the details arrive): the
  // path finder keeps what is typed, the related list fills in on its own.
  const extras = {
    related: h('section', { class: 'panel-section related', hidden: true }),
    path: kind === 'genre' ? pathFinder(state.genres.get(id)) : null,
  };
  const render = (detail) => {
    if (kind === 'genre') renderGenrePanel(state.genres.get(id), detail, extras);
    else renderBandPanel(state.bands.get(id), detail, extras);
  };
  render(null);
  const base = '/api/v1/' + (kind === 'genre' ? 'genres/' : 'bands/') + encodeURIComponent(id);
  getJSON(base + (kind === 'genre' ? '/related?limit=8' : '/similar?limit=8'))
    .then((doc) => {
      if (seq !== state.detailSeq) return;
      fillRelated(kind, doc, extras.related);
    })
    .catch(() => {}); // an optional extra: the section just stays hidden
  getJSON(base)
    .then((detail) => {
      if (seq !== state.detailSeq) return;
      render(detail);
      el.panel.dataset.loaded = '1';
    })
    .catch((err) => {
      if (seq !== state.detailSeq) return;
      const desc = el.panelBody.querySelector('.description');
      if (desc) {
        desc.textContent = 'Details could not be loaded (' + (err.status ? 'HTTP ' + err.status : 'network error') + ').';
        desc.classList.add('error');
      }
      el.panel.dataset.loaded = 'error';
    });
}

function fillRelated(kind, doc, section) {
  const items = (kind === 'genre' ? doc.related : doc.similar) || [];
  const usable = items.filter((it) => it && typeof it.id === 'string' && (kind === 'genre' ? state.genres.has(it.id) : state.bands.has(it.id)));
  if (!usable.length) return;
  const ul = h('ul', { class: 'link-list' });
  for (const it of usable) {
    const a = linkTo(kind, it.id, typeof it.name === 'string' ? it.name : undefined);
    if (kind === 'genre' && Array.isArray(it.relations)) a.title = it.relations.map((r) => RELATION_TEXT[r] || r).join(', ');
    if (kind === 'band' && Array.isArray(it.shared)) a.title = 'Shares ' + it.shared.map((gid) => nameOf('genre', gid)).join(', ');
    ul.appendChild(h('li', null, [a]));
  }
  section.replaceChildren(h('h3', { text: kind === 'genre' ? 'Related genres' : 'Similar bands' }), ul);
  section.hidden = false;
}

function renderGenrePanel(g, detail, extras) {
  const d = detail || {};
  const color = colorOfGenre(g.id);
  el.panelKind.replaceChildren(
    h('span', { class: 'kind', text: 'Genre' }),
    h('span', { class: 'badge badge-' + g.type, text: g.type }),
  );
  el.panelKind.style.setProperty('--family', color);
  el.panelTitle.textContent = d.name || g.name;

  const facts = h('dl', { class: 'facts' });
  const family = state.genres.get(g.family);
  if (family && family.id !== g.id) facts.append(...fact('Family', linkTo('genre', family.id)));
  const dec = decade(d.origin_year !== undefined ? d.origin_year : g.origin_year);
  facts.append(...fact('Origin', dec || 'unknown'));
  const parentId = d.parent !== undefined ? d.parent : g.parent;
  facts.append(...fact('Primary parent', parentId ? linkTo('genre', parentId) : 'none (root genre)'));

  const desc = h('p', { class: 'description' });
  if (detail) {
    desc.textContent = d.description ? d.description : 'No description yet.';
    if (!d.description) desc.classList.add('empty');
  } else {
    desc.textContent = 'Loading description…';
    desc.classList.add('loading');
  }

  const parents = (Array.isArray(d.parents) ? d.parents : g.parents).map((pid) => ({ id: pid, name: nameOf('genre', pid) }));
  const children = Array.isArray(d.children)
    ? d.children
    : (state.children.get(g.id) || []).map((cid) => ({ id: cid, name: nameOf('genre', cid) }));
  const bands = Array.isArray(d.bands)
    ? d.bands
    : (state.bandsOf.get(g.id) || []).map((bid) => ({ id: bid, name: nameOf('band', bid) }));
  const influenced = (Array.isArray(d.links) ? d.links : g.links)
    .filter((l) => l && state.genres.has(l.to))
    .map((l) => ({ id: l.to, name: nameOf('genre', l.to) }));
  const influencedBy = (state.influencedBy.get(g.id) || []).map((gid) => ({ id: gid, name: nameOf('genre', gid) }));

  const body = [facts, desc];
  if (extras && extras.path) body.push(extras.path);
  body.push(section('Parents', linkList('genre', parents, 'None — this is a root genre.'), parents.length));
  body.push(section('Children', linkList('genre', children, 'No sub-genres.'), children.length));
  if (influenced.length) body.push(section('Influenced', linkList('genre', influenced, ''), influenced.length));
  if (influencedBy.length) body.push(section('Influenced by', linkList('genre', influencedBy, ''), influencedBy.length));
  if (extras) body.push(extras.related);
  body.push(section('Bands', linkList('band', bands, 'No bands listed yet.'), bands.length));
  el.panelBody.replaceChildren(...body);
  if (state.path && state.path.from === g.id) renderPathResult();
}

function renderBandPanel(b, detail, extras) {
  const d = detail || {};
  const primary = d.primary_genre || b.primary_genre;
  el.panelKind.replaceChildren(h('span', { class: 'kind', text: 'Band' }));
  el.panelKind.style.setProperty('--family', colorOfGenre(primary));
  el.panelTitle.textContent = d.name || b.name;
  const facts = h('dl', { class: 'facts' });
  facts.append(...fact('Primary genre', primary ? linkTo('genre', primary) : 'unknown'));
  const genres = (Array.isArray(d.genres) ? d.genres : b.genres).map((gid) => ({ id: gid, name: nameOf('genre', gid) }));
  const body = [facts, section('Genres', linkList('genre', genres, 'No genres.'), genres.length)];
  if (extras) body.push(extras.related);
  if (d.description) body.splice(1, 0, h('p', { class: 'description', text: d.description }));
  el.panelBody.replaceChildren(...body);
}
