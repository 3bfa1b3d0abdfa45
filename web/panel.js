/*
 * panel.js — the infobox of a genre or a band.
 *
 * A genre's panel says in words what it is (its family and the decade it
 * emerged, its region and other names when the data has them), then lists
 * each relation once: origins (parents), derivatives (children with only
 * this parent), fusion genres (children with several parents), influenced
 * by and influenced, related genres not listed already; then the defining
 * artists in the dataset's order and every band with a count. A band's
 * panel lists its genres (shown on the map with it), when and where it
 * started, similar bands and plain links to look it up elsewhere.
 *
 * It renders at once from the map's data, then again when the details
 * (description, related genres, similar bands) arrive. Fields a server does
 * not send yet (aliases, region, defining artists, country, active_from)
 * leave their lines out.
 */
import { getJSON } from './api.js';
import { h, reducedMotion } from './dom.js';
import { actLabel, bandKey, colorOfGenre, decade, el, familyName, linkTo, nameOf, state } from './model.js';
import { pathFinder, renderPathResult } from './path.js';

const BANDS_SHOWN = 60; // a long band list opens fully on request

function linkList(kind, ids, opts) {
  const ul = h('ul', { class: 'link-list' });
  const limit = (opts && opts.limit) || Infinity;
  const add = (from, to) => {
    for (const id of ids.slice(from, to)) ul.append(h('li', null, linkTo(kind, id)));
  };
  add(0, limit);
  if (ids.length <= limit) return ul;
  const more = h('button', { type: 'button', class: 'text-button', text: 'Show all ' + ids.length });
  more.addEventListener('click', () => {
    more.remove();
    add(limit, ids.length);
  });
  return h('div', null, [ul, more]);
}

// The open genre's band list, whole, from its first band the map does not
// show (the map's list of a big genre is cut short): scrolled to and focused.
export function showMoreBands() {
  const list = el.panelBody.querySelector('.panel-section.bands');
  if (!list) return;
  list.querySelector('button.text-button')?.click();
  const links = [...list.querySelectorAll('a[data-kind="band"]')];
  const first = links.find((a) => !state.graph?.hasNode(bandKey(a.dataset.id))) || links[0];
  first?.scrollIntoView({ block: 'start', behavior: reducedMotion() ? 'auto' : 'smooth' });
  first?.focus({ preventScroll: true });
}

function section(title, content, count, cls) {
  const head = h('h3', { text: title });
  if (typeof count === 'number') head.append(h('span', { class: 'count', text: String(count) }));
  return h('section', { class: 'panel-section' + (cls ? ' ' + cls : '') }, [head, content]);
}

function fact(label, value) {
  return [h('dt', { text: label }), h('dd', null, value)];
}

function kindLine(text, color) {
  el.panelKind.replaceChildren(h('span', { class: 'kind', text }));
  el.panelKind.style.setProperty('--family', color);
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
    listed: new Set([id]), // genres named in the panel (by the last render)
    items: null, // related genres or similar bands, once they arrive
  };
  const render = (detail) => {
    if (kind === 'genre') renderGenrePanel(state.genres.get(id), detail, extras);
    else renderBandPanel(state.bands.get(id), detail, extras);
  };
  render(null);
  const base = '/api/v1/' + (kind === 'genre' ? 'genres/' : 'bands/') + encodeURIComponent(id);
  getJSON(base + (kind === 'genre' ? '/related?limit=24' : '/similar?limit=8'))
    .then((doc) => {
      if (seq !== state.detailSeq) return;
      extras.items = (kind === 'genre' ? doc.related : doc.similar) || [];
      fillRelated(kind, extras);
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

// Related genres not named elsewhere in the panel; similar bands.
function fillRelated(kind, extras) {
  const items = extras.items;
  if (!items) return;
  const known = kind === 'genre' ? state.genres : state.bands;
  let ids = items.filter((it) => it && typeof it.id === 'string' && known.has(it.id)).map((it) => it.id);
  if (kind === 'genre') ids = ids.filter((id) => !extras.listed.has(id)).slice(0, 8);
  extras.related.hidden = !ids.length;
  if (!ids.length) return;
  const list = linkList(kind, ids);
  if (kind === 'band') {
    const byId = new Map(items.map((it) => [it.id, it]));
    for (const a of list.querySelectorAll('a')) {
      const shared = byId.get(a.dataset.id).shared;
      if (Array.isArray(shared)) a.title = 'Shares ' + shared.map((gid) => nameOf('genre', gid)).join(', ');
    }
  }
  extras.related.replaceChildren(h('h3', { text: kind === 'genre' ? 'Related genres' : 'Similar artists' }), list);
  extras.related.hidden = false;
}

function emerged(year) {
  const d = decade(year);
  return d ? 'in the ' + d : null;
}

function renderGenrePanel(g, detail, extras) {
  const d = detail || {};
  const family = state.genres.get(g.family);
  const isRoot = g.family === g.id;
  kindLine(isRoot ? 'Genre family' : 'Genre · ' + familyName(g.id) + ' family', colorOfGenre(g.id));
  el.panelTitle.textContent = d.name || g.name;

  const facts = h('dl', { class: 'facts' });
  if (family && !isRoot) facts.append(...fact('Family', linkTo('genre', family.id)));
  if (isRoot) facts.append(...fact('Family', 'its own: ' + countFamily(g.id) + ' genres'));
  const when = emerged(d.origin_year !== undefined ? d.origin_year : g.origin_year);
  if (when) facts.append(...fact('Emerged', when));
  const region = d.region || g.region;
  if (typeof region === 'string' && region) facts.append(...fact('Region', region));
  const aliases = Array.isArray(d.aliases) ? d.aliases : g.aliases;
  if (aliases.length) facts.append(...fact('Also known as', aliases.join(', ')));

  const desc = h('p', { class: 'description' });
  if (detail) {
    desc.textContent = d.description ? d.description : 'No description yet.';
    if (!d.description) desc.classList.add('empty');
  } else {
    desc.textContent = 'Loading description…';
    desc.classList.add('loading');
  }

  const body = [facts, desc];
  const listed = (extras.listed = new Set([g.id]));
  // Each genre once, in the first section that names it.
  const once = (ids) => ids.filter((id) => state.genres.has(id) && !listed.has(id) && (listed.add(id), true));
  const parents = once(Array.isArray(d.parents) ? d.parents : g.parents);
  const children = state.children.get(g.id) || [];
  const derivatives = once(children.filter((c) => state.genres.get(c).parents.length === 1));
  const fusions = once(children.filter((c) => state.genres.get(c).parents.length > 1));
  const influencedBy = once(state.influencedBy.get(g.id) || []);
  const influenced = once((Array.isArray(d.links) ? d.links : g.links).filter(Boolean).map((l) => l.to));
  if (parents.length) body.push(section(parents.length > 1 ? 'Origins (a fusion of these)' : 'Origins', linkList('genre', parents), parents.length));
  if (derivatives.length) body.push(section('Derivatives', linkList('genre', derivatives), derivatives.length));
  if (fusions.length) body.push(section('Fusion genres', linkList('genre', fusions), fusions.length));
  if (influencedBy.length) body.push(section('Influenced by', linkList('genre', influencedBy), influencedBy.length));
  if (influenced.length) body.push(section('Influenced', linkList('genre', influenced), influenced.length));
  body.push(extras.related);

  const bands = state.bandsOf.get(g.id) || [];
  const defining = g.defining.filter((id) => state.bands.has(id)).slice(0, 5);
  if (defining.length) body.push(section('Defining artists', linkList('band', defining), undefined, 'defining'));
  body.push(bands.length ? section('Artists', linkList('band', bands, { limit: BANDS_SHOWN }), bands.length, 'bands') : section('Artists', h('p', { class: 'empty', text: 'No artists listed yet.' })));
  if (extras.path) body.push(extras.path);
  el.panelBody.replaceChildren(...body);
  fillRelated('genre', extras);
  if (state.path && state.path.from === g.id) renderPathResult();
}

function countFamily(rootId) {
  let n = 0;
  for (const g of state.genres.values()) if (g.family === rootId) n++;
  return n;
}

// Where else to read about and listen to a band: searches, plain links.
function elsewhere(name) {
  const q = encodeURIComponent(name);
  const sites = [
    ['MusicBrainz', 'https://musicbrainz.org/search?type=artist&query=' + q],
    ['Wikipedia', 'https://en.wikipedia.org/w/index.php?search=' + q],
    ['Bandcamp', 'https://bandcamp.com/search?item_type=b&q=' + q],
    ['YouTube', 'https://www.youtube.com/results?search_query=' + q],
  ];
  const ul = h('ul', { class: 'link-list external' });
  for (const [site, href] of sites) ul.append(h('li', null, h('a', { href, rel: 'noopener noreferrer', text: site })));
  return section('Elsewhere', ul, undefined, 'elsewhere');
}

function countryName(code) {
  if (typeof code !== 'string' || !/^[A-Za-z]{2}$/.test(code)) return null;
  try {
    return new Intl.DisplayNames(['en'], { type: 'region' }).of(code.toUpperCase()) || code;
  } catch (e) {
    return code.toUpperCase();
  }
}

function renderBandPanel(b, detail, extras) {
  const d = detail || {};
  const primary = d.primary_genre || b.primary_genre;
  kindLine(actLabel(b.id) + ' · ' + (primary ? familyName(primary) + ' family' : 'no genre'), colorOfGenre(primary));
  el.panelTitle.textContent = d.name || b.name;
  const genres = (Array.isArray(d.genres) ? d.genres : b.genres).slice().sort((x, y) => (x === primary ? -1 : y === primary ? 1 : 0));
  const facts = h('dl', { class: 'facts' });
  facts.append(...fact(genres.length > 1 ? 'Genres' : 'Genre', genres.length ? linkList('genre', genres) : 'none'));
  const from = d.active_from !== undefined ? d.active_from : b.active_from;
  // A group's year is when it formed; a person's, when the career began.
  if (Number.isInteger(from)) facts.append(...fact(b.type === 'group' ? 'Formed' : 'Active since', String(from)));
  const country = countryName(d.country || b.country);
  if (country) facts.append(...fact('From', country));
  const aliases = Array.isArray(d.aliases) ? d.aliases : b.aliases;
  if (aliases.length) facts.append(...fact('Also known as', aliases.join(', ')));
  const body = [facts];
  if (d.description) body.push(h('p', { class: 'description', text: d.description }));
  body.push(extras.related, elsewhere(d.name || b.name));
  el.panelBody.replaceChildren(...body);
  fillRelated('band', extras);
}
