/*
 * eras.js — the era bar: the switch between the force map and the eras
 * (genres by origin year, families in bands, laid out by the server), the
 * year control that dims what came later ("what existed in 1977"), and the
 * decade marks along the top of the era view. The view and the year live in
 * the URL (?view=eras&year=1977), so deep links and history carry them.
 */
import { recomputeFocus, setView, showSelection } from './map.js';
import { el, state, urlFor } from './model.js';

let say = () => {};

function yearText() {
  return state.year === null ? 'all years' : String(state.year);
}

function renderBar() {
  el.viewMap.setAttribute('aria-pressed', String(state.view === 'map'));
  el.viewEras.setAttribute('aria-pressed', String(state.view === 'eras'));
  el.yearOut.textContent = yearText();
  el.year.value = String(state.year === null ? state.eras.to : state.year);
  el.year.setAttribute('aria-valuetext', yearText());
  el.yearAll.hidden = state.year === null;
  el.eraAxis.hidden = state.view !== 'eras';
  document.body.classList.toggle('view-eras', state.view === 'eras');
}

// The decade (and century) marks of the era view, kept under their x.
function drawAxis() {
  if (state.view !== 'eras' || !state.renderer) return;
  const width = el.graph.clientWidth;
  const marks = [];
  let last = -Infinity;
  for (const t of state.eras.ticks) {
    const v = state.renderer.graphToViewport({ x: t.x * state.stretch.x, y: 0 });
    if (v.x < 0 || v.x > width || v.x - last < 48) continue; // room for the text
    last = v.x;
    const mark = document.createElement('span');
    mark.textContent = t.year >= 1900 ? t.year + 's' : String(t.year);
    mark.style.left = Math.round(v.x) + 'px';
    marks.push(mark);
  }
  el.eraAxis.replaceChildren(...marks);
}

/*
 * Applies a view and a year (from the URL or the bar). opts.push or
 * opts.replace record them in the history; opts.onFirstFrame is called when
 * the switch has drawn its first frame (measured by the tests).
 */
export function applyView(want, opts) {
  opts = opts || {};
  const yearChanged = want.year !== state.year;
  state.year = want.year === null ? null : Math.min(Math.max(want.year, state.eras.from), state.eras.to);
  let moving = Promise.resolve();
  const switched = want.view !== state.view && !!state.renderer;
  if (switched) {
    moving = setView(want.view, { instant: opts.instant, onFirstFrame: opts.onFirstFrame });
    say(want.view === 'eras' ? 'Eras: genres by the year they emerged, families in rows.' : 'Map: genres by their links.');
  } else if (!state.renderer) {
    state.view = want.view;
  }
  if (yearChanged && state.renderer) recomputeFocus();
  const url = urlFor(location.pathname, { path: new URLSearchParams(location.search).get('path') });
  if (opts.push && location.pathname + location.search !== url) history.pushState(history.state, '', url);
  else if (opts.replace) history.replaceState(history.state, '', url);
  renderBar();
  moving.then(() => {
    drawAxis();
    if (switched && state.selected) showSelection();
  });
}

export function bindEraBar(announce) {
  say = announce;
  el.year.min = String(state.eras.from);
  el.year.max = String(state.eras.to);
  el.viewMap.addEventListener('click', () => switchTo('map'));
  el.viewEras.addEventListener('click', () => switchTo('eras'));
  el.year.addEventListener('input', () => applyView({ view: state.view, year: parseInt(el.year.value, 10) }, { replace: true }));
  el.yearAll.addEventListener('click', () => {
    applyView({ view: state.view, year: null }, { replace: true });
    el.year.focus();
  });
  state.renderer.on('afterRender', drawAxis);
  el.eraBar.hidden = !state.eras.ticks.length;
  renderBar();
}

// A click on Map or Eras; the time to the switch's first frame is kept.
function switchTo(view) {
  if (view === state.view) return;
  const t0 = performance.now();
  applyView({ view, year: state.year }, { push: true, onFirstFrame: () => state.timings.viewSwitch.push(performance.now() - t0) });
}
