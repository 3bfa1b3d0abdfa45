/*
 * admin-fields.js — the building blocks of the curation forms: labelled
 * fields, filtered multi-selects, error display, busy buttons and the
 * delete confirmation.
 *
 * The forms never re-render after a failed save, so everything typed stays;
 * each error from the server goes next to its field (aria-describedby) and
 * into a summary at the top of the form.
 */
import { ApiError } from './api.js';
import { clear, h } from './dom.js';
import { NUM, collator, fold, slugify } from './text.js';
import { problemText, sessionLostMessage } from './admin-core.js';

let uid = 0;

// A labelled field: returns {wrap, control, error, setError(msg)}.
export function field(opts) {
  const id = opts.id;
  const errId = id + '-error';
  const hintId = opts.hint ? id + '-hint' : null;
  const control = opts.control;
  control.id = id;
  if (opts.name) control.name = opts.name;
  const describe = [hintId, errId].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', describe);
  const hint = opts.hint ? h('p', { class: 'hint', id: hintId }, opts.hint) : null;
  const error = h('p', { class: 'field-error', id: errId, hidden: true });
  const label = h('label', { for: id, class: 'label' }, [opts.label, opts.optional ? h('span', { class: 'optional' }, ' (optional)') : null]);
  const wrap = h('div', { class: 'field' + (opts.wide ? ' field-wide' : '') }, [label, control, hint, error]);
  return {
    wrap,
    control,
    hint,
    labelText: opts.label, // what the error summary calls the field
    error,
    focus: () => control.focus(),
    setError(messages) {
      setErrorText(error, messages);
      if (messages && messages.length) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
      wrap.classList.toggle('has-error', !!(messages && messages.length));
    },
  };
}

export function setErrorText(node, messages) {
  clear(node);
  if (!messages || !messages.length) {
    node.hidden = true;
    return;
  }
  node.hidden = false;
  node.textContent = messages.join('; ');
}

// Multi-select: a filter box over an alphabetical list of checkboxes, with
// the chosen items repeated as removable chips so a filter never hides
// what is selected. items: [{id, name, meta}] sorted already. With
// opts.ordered the order chosen matters (a genre's defining artists): the
// chips are numbered and each can move one place earlier. With opts.max,
// once that many are chosen the other boxes are disabled.
export function checklist(opts) {
  const base = opts.id;
  const errId = base + '-error';
  const hintId = base + '-hint';
  const listId = base + '-list';
  const order = []; // selected ids, in selection order
  const boxes = new Map(); // id -> {input, label, text}
  const itemsById = new Map(opts.items.map((i) => [i.id, i]));
  for (const id of opts.selected || []) if (!order.includes(id)) order.push(id);

  const chips = h(opts.ordered ? 'ol' : 'ul', { class: 'chips', 'aria-label': 'Chosen ' + opts.label.toLowerCase() });
  const filter = h('input', {
    type: 'search',
    id: base + '-filter',
    class: 'input input-filter',
    placeholder: opts.placeholder || 'Type to filter',
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-controls': listId,
    'aria-describedby': [hintId, errId].join(' '),
  });
  const shown = h('span', { class: 'shown-count', 'aria-live': 'polite' });
  const list = h('div', { class: 'checklist-box', id: listId, role: 'group', 'aria-label': opts.label });
  const hint = h('p', { class: 'hint', id: hintId }, [opts.hint || '', opts.hint ? ' ' : '', shown]);
  const error = h('p', { class: 'field-error', id: errId, hidden: true });
  const legend = h('legend', { class: 'label' }, opts.label);
  const fieldset = h('fieldset', { class: 'field field-wide checklist', id: base, 'aria-describedby': [hintId, errId].join(' ') }, [
    legend,
    chips,
    h('label', { for: base + '-filter', class: 'visually-hidden' }, 'Filter ' + opts.label.toLowerCase()),
    filter,
    list,
    hint,
    error,
  ]);

  for (const item of opts.items) {
    const input = h('input', { type: 'checkbox', value: item.id, id: base + '-' + ++uid });
    input.checked = order.includes(item.id);
    const label = h('label', { class: 'check', for: input.id }, [
      input,
      h('span', { class: 'check-name' }, item.name),
      item.meta ? h('span', { class: 'check-meta' }, item.meta) : null,
    ]);
    input.addEventListener('change', () => {
      if (input.checked && !order.includes(item.id)) order.push(item.id);
      if (!input.checked) order.splice(order.indexOf(item.id), 1);
      renderChips();
      applyMax();
      if (opts.onChange) opts.onChange(order.slice());
    });
    boxes.set(item.id, { input, label, text: fold(item.name + '\n' + item.id) });
    list.append(label);
  }
  // Selected ids unknown to the list (e.g. a parent deleted meanwhile)
  // still show as chips and are still sent: the server then says why.

  function renderChips() {
    clear(chips);
    if (!order.length) {
      chips.append(h('li', { class: 'chips-empty' }, opts.emptyText || 'None chosen'));
      return;
    }
    order.forEach((id, rank) => {
      const item = itemsById.get(id);
      const name = item ? item.name : id;
      chips.append(
        h('li', { class: 'chip' }, [
          opts.ordered ? h('span', { class: 'chip-rank' }, rank + 1 + '.') : null,
          h('span', null, name),
          opts.ordered && rank > 0
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'chip-button',
                  'aria-label': 'Move ' + name + ' earlier',
                  title: 'Move earlier',
                  disabled: fieldset.disabled,
                  onclick: () => {
                    order.splice(rank - 1, 2, id, order[rank - 1]);
                    renderChips();
                    if (opts.onChange) opts.onChange(order.slice());
                    chips.querySelector(`li:nth-child(${rank}) button`)?.focus();
                  },
                },
                '↑',
              )
            : null,
          h(
            'button',
            {
              type: 'button',
              class: 'chip-button',
              'aria-label': 'Remove ' + name,
              disabled: fieldset.disabled,
              onclick: () => {
                const b = boxes.get(id);
                if (b) b.input.checked = false;
                const i = order.indexOf(id);
                if (i >= 0) order.splice(i, 1);
                renderChips();
                applyMax();
                if (opts.onChange) opts.onChange(order.slice());
                filter.focus();
              },
            },
            '×',
          ),
        ]),
      );
    });
  }

  function applyMax() {
    if (!opts.max) return;
    const full = order.length >= opts.max;
    for (const b of boxes.values()) b.input.disabled = full && !b.input.checked;
  }

  function applyFilter() {
    const q = fold(filter.value.trim());
    let n = 0;
    for (const b of boxes.values()) {
      const hide = !!q && !b.text.includes(q);
      b.label.hidden = hide;
      if (!hide) n++;
    }
    shown.textContent = q ? NUM.format(n) + ' of ' + NUM.format(boxes.size) + ' shown.' : '';
  }
  filter.addEventListener('input', applyFilter);
  filter.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    // Enter in the filter toggles the first match instead of submitting.
    ev.preventDefault();
    if (!filter.value.trim()) return;
    for (const b of boxes.values()) {
      if (!b.label.hidden) {
        b.input.click();
        break;
      }
    }
  });
  renderChips();
  applyMax();
  applyFilter();

  return {
    wrap: fieldset,
    control: filter,
    labelText: opts.label,
    get value() {
      return order.slice();
    },
    focus: () => filter.focus(),
    setDisabled(d) {
      fieldset.disabled = d;
      fieldset.classList.toggle('is-disabled', d);
      renderChips();
    },
    setError(messages) {
      setErrorText(error, messages);
      const bad = !!(messages && messages.length);
      fieldset.classList.toggle('has-error', bad);
      if (bad) filter.setAttribute('aria-invalid', 'true');
      else filter.removeAttribute('aria-invalid');
    },
  };
}

// Maps a server field name ("parents", "links[2].to", "genres.1") to ours.
function baseField(f) {
  return String(f || '').split(/[.[]/)[0];
}

// Shows server (or local) errors: each next to its field, all in the
// summary; focuses the first field in error.
export function showErrors(form, fields, err, summary) {
  const p = err.problem || {};
  const byField = new Map();
  const unplaced = [];
  for (const e of Array.isArray(p.errors) ? p.errors : []) {
    const f = baseField(e.field);
    const msg = e.message || 'is not valid';
    if (fields[f]) {
      if (!byField.has(f)) byField.set(f, []);
      byField.get(f).push(msg);
    } else {
      unplaced.push((e.field ? e.field + ': ' : '') + msg);
    }
  }
  for (const [name, f] of Object.entries(fields)) f.setError(byField.get(name) || null);

  clear(summary);
  const items = [];
  for (const [name, msgs] of byField) {
    const f = fields[name];
    for (const m of msgs) {
      items.push(
        h('li', null, h('a', { href: '#' + (f.wrap.id || f.control.id), class: 'summary-link', onclick: (ev) => {
          ev.preventDefault();
          f.focus();
        } }, f.labelText + ': ' + m)),
      );
    }
  }
  for (const m of unplaced) items.push(h('li', null, m));
  // With field errors the list says it all (the server's detail repeats
  // them); without, the detail is the only explanation.
  summary.append(
    h('h2', { class: 'summary-title' }, 'Not saved'),
    h('p', null, err.status === 401 ? sessionLostMessage('this was not saved.') : byField.size ? (byField.size === 1 && !unplaced.length ? 'Fix the marked field:' : 'Fix the marked fields:') : problemText(err)),
  );
  if (items.length) summary.append(h('ul', null, items));
  summary.hidden = false;
  const first = [...byField.keys()].map((k) => fields[k])[0];
  if (first) first.focus();
  else summary.focus();
}

// The few checks worth making before a round trip: without a name the
// server could only complain that no id can be derived from it.
export function localErrors(name, idField, editing) {
  const errors = [];
  if (!name.control.value.trim()) errors.push({ field: 'name', message: 'is required' });
  else if (!editing && !idField.control.value.trim() && !slugify(name.control.value)) {
    errors.push({ field: 'id', message: 'cannot be suggested from this name: type one (a-z, 0-9 and -)' });
  }
  return errors;
}

export function clearErrors(fields, summary) {
  for (const f of Object.values(fields)) f.setError(null);
  clear(summary);
  summary.hidden = true;
}

export function setBusy(button, busy, busyText) {
  if (busy) {
    button.dataset.label = button.textContent;
    button.textContent = busyText;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
  } else {
    if (button.dataset.label) button.textContent = button.dataset.label;
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

// Confirmation dialog for deletions. doDelete() resolves with the server's
// answer or throws ApiError; a 409 shows the reason and the blockers.
export function confirmDelete(opts) {
  const title = h('h2', { id: 'confirm-title', class: 'dialog-title' }, opts.title);
  const body = h('div', { class: 'dialog-body' }, h('p', null, opts.message));
  const result = h('div', { class: 'dialog-result', role: 'alert' });
  const cancel = h('button', { type: 'button', class: 'button', value: 'cancel' }, 'Cancel');
  const confirm = h('button', { type: 'button', class: 'button button-danger' }, opts.confirmText || 'Delete');
  const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-body' }, [
    title,
    body,
    result,
    h('div', { class: 'dialog-actions' }, [cancel, confirm]),
  ]);
  body.id = 'confirm-body';
  cancel.addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => dlg.remove());
  confirm.addEventListener('click', async () => {
    setBusy(confirm, true, 'Deleting…');
    clear(result);
    try {
      const answer = await opts.doDelete();
      dlg.close();
      opts.onDone(answer);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setBusy(confirm, false);
      if (err.status === 401) {
        result.append(h('p', { class: 'dialog-reason' }, sessionLostMessage('nothing was deleted.')));
        return;
      }
      const p = err.problem || {};
      result.append(h('p', { class: 'dialog-reason' }, [h('strong', null, (p.title || 'Refused') + ': '), problemText(err)]));
      const blockers = p.blockers || {};
      const groups = [
        ['genres', 'Genres that have it as their primary parent', (b) => '/admin/genres/' + encodeURIComponent(b.id) + '/edit'],
        ['bands', 'Bands that have it as their primary genre', (b) => '/admin/bands/' + encodeURIComponent(b.id) + '/edit'],
      ];
      for (const [key, heading, href] of groups) {
        const list = Array.isArray(blockers[key]) ? blockers[key] : [];
        if (!list.length) continue;
        result.append(
          h('h3', { class: 'blockers-title' }, heading + ' (' + NUM.format(list.length) + ')'),
          h('ul', { class: 'blockers', dataset: { kind: key } }, list.slice().sort((a, b) => collator.compare(a.name || a.id, b.name || b.id)).map((b) => h('li', null, h('a', { href: href(b) }, b.name || b.id)))),
        );
      }
      if (err.status === 409) {
        title.textContent = opts.refusedTitle || 'Cannot delete';
        body.hidden = true;
        confirm.hidden = true;
        cancel.textContent = 'Close';
        cancel.focus();
      }
    }
  });
  document.body.append(dlg);
  dlg.showModal();
  cancel.focus();
  return dlg;
}
