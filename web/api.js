/*
 * api.js — the client of /api/v1, shared by the explorer and the curation
 * pages: JSON in and out, RFC 9457 problems turned into ApiError.
 */

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || 'HTTP ' + status);
    this.status = status; // 0: the server could not be reached
    this.problem = problem || {};
  }
}

// Sends one request and returns the parsed JSON body (null for 204 or a
// body that is not JSON). Any answer but 2xx throws ApiError with the
// server's problem document; an aborted request throws the AbortError.
//   opts.body    sent as JSON
//   opts.csrf    X-CSRF-Token for writes
//   opts.signal  an AbortSignal
//   opts.cache   fetch's cache mode ('default': revalidated with ETags)
export async function request(method, path, opts = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: opts.cache || 'default', signal: opts.signal };
  if (opts.csrf !== undefined) headers['X-CSRF-Token'] = opts.csrf;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, { title: 'Network error', detail: 'The server could not be reached. Nothing was changed.' });
  }
  let data = null;
  if (res.status !== 204 && /json/.test(res.headers.get('Content-Type') || '')) {
    try {
      data = await res.json();
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      data = null;
    }
  }
  if (!res.ok) throw new ApiError(res.status, data || { title: res.statusText || 'Error', detail: 'The server answered ' + res.status + '.' });
  return data;
}

export function getJSON(path, opts) {
  return request('GET', path, opts);
}
