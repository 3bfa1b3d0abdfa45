/*
 * dom.js — building the page from script, shared by the explorer and the
 * curation pages.
 *
 * Names from the database can contain anything, markup included: they reach
 * the page only through these helpers (text nodes, attribute values set from
 * script), never through innerHTML. That is the escaping of this UI; the
 * server-rendered pages escape in C (core/text.h).
 */

// h('a', {href: '/x', class: 'y'}, ['text', node]): an element. Attributes:
// class, text (textContent), dataset (an object), on<event> (a listener);
// null, undefined and false leave an attribute out, true sets it empty.
// Children may be one value or an array; strings become text nodes, and
// null, undefined and false are skipped.
export function h(tag, attrs, children) {
  const node = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (v === true) node.setAttribute(k, '');
      else node.setAttribute(k, String(v));
    }
  }
  if (children !== undefined && children !== null) add(node, ...(Array.isArray(children) ? children : [children]));
  return node;
}

// node.append() that skips null, undefined and false (optional parts).
export function add(node, ...children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
}

export function debounce(fn, ms) {
  let t = 0;
  return function (...args) {
    clearTimeout(t);
    t = setTimeout(() => fn.apply(this, args), ms);
  };
}

export function reducedMotion() {
  return !!(window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches);
}
