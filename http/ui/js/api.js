// The REST API client. The admin token lives in sessionStorage only (gone
// when the tab closes) and travels in the X-Agent-Token header: never in a
// URL, a cookie or the DOM.

const TOKEN_KEY = 'secrethub.admin_token';

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** A failed call: `errors` are the API's own messages, verbatim. */
export class ApiError extends Error {
  constructor(status, errors) {
    super(errors.join('\n'));
    this.name = 'ApiError';
    this.status = status;
    this.errors = errors;
  }
}

let unauthorizedHandler = () => {};

/** Called with the ApiError when the server answers 401 (token gone). */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

/**
 * Calls the API. `body` (an object) is sent as JSON; a POST without one
 * sends `{}`, which the API reads as "nothing to say". Resolves to the
 * parsed JSON (or the text for non-JSON answers); rejects with ApiError.
 */
export async function call(method, path, body) {
  const headers = { 'X-Agent-Token': getToken(), Accept: 'application/json' };
  const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
  if (body !== undefined || method === 'POST') {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, [`cannot reach the SecretHub server (${e.message})`]);
  }
  const text = await response.text();
  let data = null;
  if (text !== '') {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const errors = data && Array.isArray(data.errors) && data.errors.length > 0
      ? data.errors.map(String)
      : [`HTTP ${response.status} ${response.statusText}`.trim()];
    const err = new ApiError(response.status, errors);
    if (response.status === 401) {
      unauthorizedHandler(err);
    }
    throw err;
  }
  return data;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body);
export const del = (path) => call('DELETE', path);

/** "?a=1&b=2" from the entries whose value is not empty. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') {
      q.set(k, String(v));
    }
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const rolePath = (name) => `/v1/sys/roles/${encodeURIComponent(name)}`;
