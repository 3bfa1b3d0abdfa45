/*
 * text.js — folding, ids and numbers as the server sees them, shared by the
 * explorer and the curation pages.
 */

export const NUM = new Intl.NumberFormat('en-US');
export const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

// Lower case without accents: what filters compare.
export function fold(s) {
  return String(s || '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
}

export function plural(n, one, many) {
  return NUM.format(n) + ' ' + (n === 1 ? one : many);
}

// The id the server derives from a name when none is given (domain_slugify
// + text_fold): ASCII lowercased, Latin-1 and Latin Extended-A letters
// folded to their base letters, every run of anything else one '-', no '-'
// at either end, at most 50 characters.
const LATIN1 = [
  'a', 'a', 'a', 'a', 'a', 'a', 'ae', 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
  'd', 'n', 'o', 'o', 'o', 'o', 'o', null, 'o', 'u', 'u', 'u', 'u', 'y', 'th', 'ss',
  'a', 'a', 'a', 'a', 'a', 'a', 'ae', 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
  'd', 'n', 'o', 'o', 'o', 'o', 'o', null, 'o', 'u', 'u', 'u', 'u', 'y', 'th', 'y',
];
const LATIN_EXT = [
  [0x100, 0x105, 'a'], [0x106, 0x10d, 'c'], [0x10e, 0x111, 'd'], [0x112, 0x11b, 'e'],
  [0x11c, 0x123, 'g'], [0x124, 0x127, 'h'], [0x128, 0x131, 'i'], [0x132, 0x133, 'ij'],
  [0x134, 0x135, 'j'], [0x136, 0x138, 'k'], [0x139, 0x142, 'l'], [0x143, 0x14b, 'n'],
  [0x14c, 0x151, 'o'], [0x152, 0x153, 'oe'], [0x154, 0x159, 'r'], [0x15a, 0x161, 's'],
  [0x162, 0x167, 't'], [0x168, 0x173, 'u'], [0x174, 0x175, 'w'], [0x176, 0x178, 'y'],
  [0x179, 0x17e, 'z'], [0x17f, 0x17f, 's'],
];
const ID_MAX = 50;

function foldChar(ch) {
  const cp = ch.codePointAt(0);
  if (cp < 0x80) return ch.toLowerCase();
  if (cp >= 0xc0 && cp <= 0xff) return LATIN1[cp - 0xc0] || ch;
  for (const [a, b, base] of LATIN_EXT) if (cp >= a && cp <= b) return base;
  return ch;
}

export function slugify(name) {
  let out = '';
  let dash = false;
  for (const ch of String(name || '')) {
    for (const c of foldChar(ch)) {
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        const sep = dash && out.length > 0 ? '-' : '';
        if (out.length + sep.length + 1 > ID_MAX) return out;
        out += sep + c;
        dash = false;
      } else {
        dash = true;
      }
    }
  }
  return out;
}
