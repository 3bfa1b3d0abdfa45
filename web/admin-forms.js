/*
 * admin-forms.js — the genre and band forms (…/new, …/ID/edit): create,
 * edit and delete, with the id suggested from the name exactly as the
 * server derives it.
 */
import { ApiError } from './api.js';
import { add, clear, h } from './dom.js';
import { collator, plural, slugify } from './text.js';
import { TYPES, TYPE_LABEL, api, genreName, invalidateGraph, listHref, loadGraph, navigate, state } from './admin-core.js';
import { checklist, clearErrors, confirmDelete, field, localErrors, setBusy, showErrors } from './admin-fields.js';

export async function pageGenreForm(view, id, seq) {
  const editing = id !== undefined;
  const [g, detail] = await Promise.all([loadGraph(), editing ? api('GET', '/api/v1/genres/' + encodeURIComponent(id)) : null]);
  if (seq !== state.seq) return '';
  const cur = detail || { id: '', name: '', type: 'leaf', parent: null, parents: [], description: '', origin_year: null, links: [] };
  view.classList.add('page-narrow');

  // A genre cannot descend from itself: leave it and its descendants out
  // of the parent choices (the server checks cycles as well).
  const excluded = new Set();
  if (editing) {
    const stack = [cur.id];
    while (stack.length) {
      const x = stack.pop();
      if (excluded.has(x)) continue;
      excluded.add(x);
      for (const c of g.children.get(x) || []) stack.push(c);
    }
  }
  const items = (filterFn) => g.genreList.filter(filterFn).map((x) => ({ id: x.id, name: x.name, meta: TYPE_LABEL[x.type] + ' · ' + x.id }));

  const summary = h('div', { class: 'form-errors', role: 'alert', tabindex: '-1', hidden: true });
  const name = field({ id: 'genre-name', name: 'name', label: 'Name', control: h('input', { type: 'text', class: 'input', required: true, maxlength: '100', autocomplete: 'off', spellcheck: 'false' }) });
  name.control.value = cur.name || '';
  const idField = field({
    id: 'genre-id',
    name: 'id',
    label: 'Id',
    hint: editing ? 'The id is part of the genre’s address and cannot change.' : 'Lowercase letters, digits and “-”, at most 50; suggested from the name.',
    control: h('input', { type: 'text', class: 'input input-mono', maxlength: '50', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', readonly: editing }),
  });
  idField.control.value = cur.id || '';
  const typeSel = h('select', { class: 'input' }, TYPES.map((t) => new Option(TYPE_LABEL[t], t)));
  typeSel.value = TYPES.includes(cur.type) ? cur.type : 'leaf';
  const type = field({ id: 'genre-type', name: 'type', label: 'Type', hint: 'Root genres have no parents; leaf genres can be a band’s primary genre.', control: typeSel });

  const parentSel = h('select', { class: 'input' });
  const parent = field({ id: 'genre-parent', name: 'parent', label: 'Primary parent', hint: 'One of the parents; it places the genre in its family.', control: parentSel });
  let primary = cur.parent || '';

  const parents = checklist({
    id: 'genre-parents',
    label: 'Parents',
    items: items((x) => !excluded.has(x.id)),
    selected: cur.parents || [],
    placeholder: 'Type to filter genres',
    emptyText: 'No parent chosen',
    onChange: () => fillPrimary(),
  });
  const influenceIds = (cur.links || []).filter((l) => l.kind === 'influence').map((l) => l.to);
  const otherLinks = (cur.links || []).filter((l) => l.kind !== 'influence');
  const links = checklist({
    id: 'genre-links',
    label: 'Influenced',
    hint: 'Genres this genre influenced.',
    items: items((x) => x.id !== cur.id),
    selected: influenceIds,
    placeholder: 'Type to filter genres',
    emptyText: 'No influence link',
  });
  const description = field({ id: 'genre-description', name: 'description', label: 'Description', optional: true, wide: true, control: h('textarea', { class: 'input', rows: '5' }) });
  description.control.value = cur.description || '';
  const year = yearField('genre-origin-year', 'origin_year', 'Origin year', 'The year (or decade, e.g. 1980) it emerged.', cur.origin_year, { negative: true });
  const region = field({
    id: 'genre-region',
    name: 'region',
    label: 'Region of origin',
    optional: true,
    hint: 'Where it emerged, in words: “Jamaica”, “Detroit, United States”.',
    control: h('input', { type: 'text', class: 'input', maxlength: '100', autocomplete: 'off' }),
  });
  region.control.value = cur.region || '';
  const aliases = namesField('genre-aliases', 'The other names people type for it, one per line: “hip-hop”, “rap”.', cur.aliases);
  // The artists that define it, most important first: only artists that carry the genre or one of
  // its sub-genres qualify, so a new genre has none yet.
  const defining = editing
    ? checklist({
        id: 'genre-defining',
        label: 'Defining artists',
        hint: 'At most five, most important first; the explorer lists them first.',
        items: artistsOf(g, excluded),
        selected: cur.defining || [],
        ordered: true,
        max: 5,
        placeholder: 'Type to filter the artists of this genre',
        emptyText: 'No defining artist',
      })
    : null;

  const fields = { name, id: idField, type, parent, parents, links, description, origin_year: year, region, aliases };
  if (defining) fields.defining = defining;

  function fillPrimary() {
    const chosen = parents.value;
    const isRoot = typeSel.value === 'root';
    if (parentSel.value) primary = parentSel.value;
    clear(parentSel);
    if (isRoot) {
      parentSel.append(new Option('None: a root genre has no parent', ''));
      parentSel.disabled = true;
      return;
    }
    if (!chosen.length) {
      parentSel.append(new Option('Choose parents first', ''));
      parentSel.disabled = true;
      return;
    }
    parentSel.disabled = false;
    const sorted = chosen.map((pid) => ({ id: pid, name: genreName(g, pid) })).sort((a, b) => collator.compare(a.name, b.name));
    if (sorted.length > 1 || !sorted.some((x) => x.id === primary)) {
      if (sorted.length > 1) parentSel.append(new Option('Choose the primary parent', ''));
    }
    for (const x of sorted) parentSel.append(new Option(x.name, x.id));
    if (chosen.includes(primary)) parentSel.value = primary;
    else if (chosen.length === 1) parentSel.value = chosen[0];
    else parentSel.value = '';
  }
  parentSel.addEventListener('change', () => {
    primary = parentSel.value;
  });
  function applyType() {
    const isRoot = typeSel.value === 'root';
    parents.setDisabled(isRoot);
    fillPrimary();
  }
  typeSel.addEventListener('change', applyType);

  idFollowsName(name, idField, editing);
  const submit = h('button', { type: 'submit', class: 'button button-primary' }, editing ? 'Save changes' : 'Create genre');
  const actions = formActions('genres', 'genre', editing, cur, submit, {
    message: 'The genre is removed from the map. Genres and bands that list it as a secondary parent or genre lose that link. This cannot be undone.',
    onDone: (answer) => {
      const un = (answer && answer.unlinked) || {};
      const extra = [];
      if ((un.genres || []).length) extra.push('removed as a parent of ' + plural(un.genres.length, 'genre', 'genres'));
      if ((un.bands || []).length) extra.push('removed from ' + plural(un.bands.length, 'band', 'bands'));
      return extra.length ? ' (' + extra.join(', ') + ').' : '.';
    },
  });

  const form = h('form', { class: 'form', novalidate: true, 'aria-labelledby': 'form-title' }, [
    summary,
    h('div', { class: 'grid' }, [name.wrap, idField.wrap]),
    h('div', { class: 'grid' }, [type.wrap, year.wrap]),
    parents.wrap,
    h('div', { class: 'grid' }, [parent.wrap, region.wrap]),
    links.wrap,
    description.wrap,
    aliases.wrap,
    defining ? defining.wrap : null,
    formerIds(cur),
    actions,
  ]);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (submit.disabled) return;
    clearErrors(fields, summary);
    const local = localErrors(name, idField, editing);
    const originYear = year.read(local);
    if (local.length) {
      showErrors(form, fields, new ApiError(400, { errors: local }), summary);
      return;
    }
    const isRoot = typeSel.value === 'root';
    const body = {
      name: name.control.value,
      type: typeSel.value,
      parent: isRoot ? null : parentSel.value || null,
      parents: isRoot ? [] : parents.value,
      description: description.control.value,
      origin_year: originYear,
      links: links.value.map((to) => ({ to, kind: 'influence' })).concat(otherLinks),
      region: region.control.value.trim() || null,
      aliases: aliases.read(),
    };
    if (defining) body.defining = defining.value;
    if (!editing && idField.control.value.trim() !== '') body.id = idField.control.value.trim();
    await saveEntity('genres', 'genre', editing, cur, body, { submit, form, fields, summary });
  });

  applyType();
  return formPage(view, 'genres', 'genre', editing, cur, form);
}

/* ---------- genre and band forms: saving and the page around them ---------- */

// Sends the form's body (PUT when editing, POST when creating), then goes
// back to the list with a notice; server errors are shown next to their fields.
async function saveEntity(kind, noun, editing, cur, body, { submit, form, fields, summary }) {
  setBusy(submit, true, 'Saving…');
  try {
    const saved = editing
      ? await api('PUT', '/api/v1/' + kind + '/' + encodeURIComponent(cur.id), body)
      : await api('POST', '/api/v1/' + kind, body);
    invalidateGraph();
    const sid = (saved && saved.id) || body.id || cur.id;
    const sname = (saved && saved.name) || body.name;
    state.notice = {
      text: (editing ? 'Saved ' : 'Created ') + noun + ' “' + sname + '”.',
      links: [
        { href: '/' + kind + '/' + encodeURIComponent(sid), text: 'View on the map' },
        { href: '/admin/' + kind + '/' + encodeURIComponent(sid) + '/edit', text: 'Edit again' },
      ],
    };
    state.flash = { kind, id: sid };
    navigate(listHref(kind));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    setBusy(submit, false);
    showErrors(form, fields, err, summary);
  }
}

// An optional year, typed as text so that the form can say what is wrong with it. read(local)
// gives the year typed, or null when the field is empty or the text is not a whole year (negative
// ones only where allowed), which also adds its error to local.
function yearField(id, name, label, hint, value, { negative = false } = {}) {
  const f = field({ id, name, label, optional: true, hint, control: h('input', { type: 'text', inputmode: 'numeric', class: 'input input-year', maxlength: '6', autocomplete: 'off' }) });
  f.control.value = value == null ? '' : String(value);
  const whole = negative ? /^-?\d{1,4}$/ : /^\d{1,4}$/;
  f.read = (local) => {
    const text = f.control.value.trim();
    if (text === '') return null;
    if (whole.test(text)) return parseInt(text, 10);
    local.push({ field: name, message: 'must be a whole year, like 1985' });
    return null;
  };
  return f;
}

// Other names, one per line; read() gives the non-empty lines, trimmed.
function namesField(id, hint, values) {
  const f = field({ id, name: 'aliases', label: 'Other names', optional: true, wide: true, hint, control: h('textarea', { class: 'input', rows: '3', spellcheck: 'false' }) });
  f.control.value = (values || []).join('\n');
  f.read = () =>
    f.control.value
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
  return f;
}

// The ids an entry had before, which still answer with a redirect to it: shown, not edited here.
function formerIds(cur) {
  const ids = cur.former_ids || [];
  if (!ids.length) return null;
  return h('p', { class: 'hint', id: 'former-ids' }, ['Former ids, whose addresses still lead here: ', h('code', null, ids.join(', ')), '.']);
}

// The artists that carry a genre of the set (a genre and its sub-genres), by name, for a checklist.
function artistsOf(g, genreIds) {
  const list = [];
  for (const b of g.bands.values())
    if ((b.genres || []).some((gid) => genreIds.has(gid))) list.push({ id: b.id, name: b.name, meta: genreName(g, b.primary_genre) + ' · ' + b.id });
  return list.sort((a, b) => collator.compare(a.name, b.name) || (a.id < b.id ? -1 : 1));
}

// The heading, crumbs and links around a genre or band form; returns the page title.
function formPage(view, kind, noun, editing, cur, form) {
  add(view,
    h('p', { class: 'crumbs' }, h('a', { href: listHref(kind) }, '← ' + kind[0].toUpperCase() + kind.slice(1))),
    h('div', { class: 'page-head' }, [
      h('h1', { id: 'form-title', tabindex: '-1' }, (editing ? 'Edit ' : 'New ') + noun),
      editing ? h('a', { href: '/' + kind + '/' + encodeURIComponent(cur.id), class: 'view-link' }, 'View on the map') : null,
    ]),
    editing ? h('p', { class: 'subtitle' }, cur.name) : null,
    form,
  );
  return editing ? 'Edit ' + cur.name : 'New ' + noun;
}

/* ---------- band form ---------- */

export async function pageBandForm(view, id, seq) {
  const editing = id !== undefined;
  const [g, detail] = await Promise.all([loadGraph(), editing ? api('GET', '/api/v1/bands/' + encodeURIComponent(id)) : null]);
  if (seq !== state.seq) return '';
  const cur = detail || { id: '', name: '', primary_genre: null, genres: [] };
  view.classList.add('page-narrow');

  const summary = h('div', { class: 'form-errors', role: 'alert', tabindex: '-1', hidden: true });
  const name = field({ id: 'band-name', name: 'name', label: 'Name', control: h('input', { type: 'text', class: 'input', required: true, maxlength: '100', autocomplete: 'off', spellcheck: 'false' }) });
  name.control.value = cur.name || '';
  const idField = field({
    id: 'band-id',
    name: 'id',
    label: 'Id',
    hint: editing ? 'The id is part of the band’s address and cannot change.' : 'Lowercase letters, digits and “-”, at most 50; suggested from the name.',
    control: h('input', { type: 'text', class: 'input input-mono', maxlength: '50', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', readonly: editing }),
  });
  idField.control.value = cur.id || '';
  const primarySel = h('select', { class: 'input' });
  const primaryField = field({ id: 'band-primary-genre', name: 'primary_genre', label: 'Primary genre', hint: 'One of the chosen genres, and a leaf genre.', control: primarySel });
  let primary = cur.primary_genre || '';
  const genres = checklist({
    id: 'band-genres',
    label: 'Genres',
    items: g.genreList.map((x) => ({ id: x.id, name: x.name, meta: TYPE_LABEL[x.type] + ' · ' + x.id })),
    selected: cur.genres || [],
    placeholder: 'Type to filter genres',
    emptyText: 'No genre chosen',
    onChange: () => fillPrimary(),
  });
  // What the artist is, where it started out and when: the explorer shows them in its panel.
  const kindSel = h('select', { class: 'input' }, [
    new Option('Not said', ''),
    new Option('A person: solo artist, alias, DJ, composer', 'person'),
    new Option('A group: band, duo, orchestra, choir', 'group'),
  ]);
  kindSel.value = cur.type === 'person' || cur.type === 'group' ? cur.type : '';
  const kind = field({ id: 'band-type', name: 'type', label: 'Person or group', optional: true, control: kindSel });
  const country = field({
    id: 'band-country',
    name: 'country',
    label: 'Country',
    optional: true,
    hint: 'Where it formed or started out: a two-letter ISO 3166 code, like US, GB or BR.',
    control: h('input', { type: 'text', class: 'input input-year', maxlength: '2', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters' }),
  });
  country.control.value = cur.country || '';
  const year = yearField('band-active-from', 'active_from', 'Active from', 'For a group, the year it formed; for a person, the year the career began.', cur.active_from);
  const aliases = namesField('band-aliases', 'The other names people type for it, one per line: “AC/DC”, “acdc”, a former name.', cur.aliases);

  const fields = { name, id: idField, primary_genre: primaryField, genres, type: kind, country, active_from: year, aliases };

  function fillPrimary() {
    if (primarySel.value) primary = primarySel.value;
    const chosen = genres.value;
    const leaves = chosen
      .filter((gid) => (g.genres.get(gid) || {}).type === 'leaf')
      .map((gid) => ({ id: gid, name: genreName(g, gid) }))
      .sort((a, b) => collator.compare(a.name, b.name));
    clear(primarySel);
    if (!leaves.length) {
      primarySel.append(new Option(chosen.length ? 'Choose a leaf genre among the genres' : 'Choose genres first', ''));
      primarySel.disabled = true;
      return;
    }
    primarySel.disabled = false;
    if (leaves.length > 1) primarySel.append(new Option('Choose the primary genre', ''));
    for (const x of leaves) primarySel.append(new Option(x.name, x.id));
    if (leaves.some((x) => x.id === primary)) primarySel.value = primary;
    else if (leaves.length === 1) primarySel.value = leaves[0].id;
    else primarySel.value = '';
  }
  primarySel.addEventListener('change', () => {
    primary = primarySel.value;
  });

  idFollowsName(name, idField, editing);
  const submit = h('button', { type: 'submit', class: 'button button-primary' }, editing ? 'Save changes' : 'Create band');
  const actions = formActions('bands', 'band', editing, cur, submit, {
    message: 'The band is removed from the map. This cannot be undone.',
    onDone: () => '.',
  });

  const form = h('form', { class: 'form', novalidate: true, 'aria-labelledby': 'form-title' }, [
    summary,
    h('div', { class: 'grid' }, [name.wrap, idField.wrap]),
    genres.wrap,
    h('div', { class: 'grid' }, [primaryField.wrap, kind.wrap]),
    h('div', { class: 'grid' }, [country.wrap, year.wrap]),
    aliases.wrap,
    formerIds(cur),
    actions,
  ]);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (submit.disabled) return;
    clearErrors(fields, summary);
    const local = localErrors(name, idField, editing);
    const activeFrom = year.read(local);
    if (local.length) {
      showErrors(form, fields, new ApiError(400, { errors: local }), summary);
      return;
    }
    const body = {
      name: name.control.value,
      type: kindSel.value || null,
      primary_genre: primarySel.value || null,
      genres: genres.value,
      country: country.control.value.trim().toUpperCase() || null,
      active_from: activeFrom,
      aliases: aliases.read(),
    };
    if (!editing && idField.control.value.trim() !== '') body.id = idField.control.value.trim();
    await saveEntity('bands', 'band', editing, cur, body, { submit, form, fields, summary });
  });

  fillPrimary();
  return formPage(view, 'bands', 'band', editing, cur, form);
}

// A new entry's id follows its name (as the server would derive it) until
// the user edits the id.
function idFollowsName(name, idField, editing) {
  if (editing) return;
  let idTouched = false;
  name.control.addEventListener('input', () => {
    if (!idTouched) idField.control.value = slugify(name.control.value);
  });
  idField.control.addEventListener('input', () => {
    idTouched = idField.control.value !== '';
    if (!idTouched) idField.control.value = slugify(name.control.value);
  });
}

// Save, Cancel and, when editing, Delete… with its confirmation; del.onDone
// gets the server's answer and returns the end of the notice sentence.
function formActions(kind, noun, editing, cur, submit, del) {
  const actions = h('div', { class: 'form-actions' }, [submit, h('a', { class: 'button', href: listHref(kind) }, 'Cancel')]);
  if (!editing) return actions;
  actions.append(
    h('span', { class: 'spacer' }),
    h('button', {
      type: 'button',
      class: 'button button-danger-quiet',
      id: 'delete-' + noun,
      onclick: () =>
        confirmDelete({
          title: 'Delete “' + cur.name + '”?',
          refusedTitle: '“' + cur.name + '” cannot be deleted',
          message: del.message,
          confirmText: 'Delete ' + noun,
          doDelete: () => api('DELETE', '/api/v1/' + kind + '/' + encodeURIComponent(cur.id)),
          onDone: (answer) => {
            invalidateGraph();
            state.notice = { text: 'Deleted ' + noun + ' “' + cur.name + '”' + del.onDone(answer) };
            navigate(listHref(kind));
          },
        }),
    }, 'Delete ' + noun + '…'),
  );
  return actions;
}
