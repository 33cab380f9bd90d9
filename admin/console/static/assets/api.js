// The admin REST API with the signed-in user's bearer token. Errors become
// ApiError with the server's message; pages show them and stay usable.

import { accessToken, base } from './auth.js';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function describe(status, body) {
  const msg = body && (body.errorMessage || body.error_description || body.error);
  if (status === 403) return `You are not allowed to do this (${msg || 'HTTP 403 Forbidden'}).`;
  if (status === 401) return 'Your sign-in is no longer valid; sign in again.';
  return msg || `The server answered ${status}.`;
}

async function send(method, path, body, force) {
  const headers = { Authorization: `Bearer ${await accessToken(force)}`, Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return fetch(`${base}/admin${path}`, init);
}

// api calls the admin API at path (below /admin) and returns the decoded
// answer (null when it has no body).
export async function api(method, path, body) {
  let res = await send(method, path, body, false);
  if (res.status === 401) {
    // The token may have been revoked or the clock moved: one refresh.
    res = await send(method, path, body, true);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) throw new ApiError(res.status, describe(res.status, data));
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path, body) => api('DELETE', path, body);

// realmPath is /realms/{realm} with the name escaped.
export const realmPath = (realm) => `/realms/${encodeURIComponent(realm)}`;

// allGroups lists every group of realm, parents before their children.
// The list endpoint gives the top level with subGroupCount (as Keycloak
// 26), so branches are read level by level.
export async function allGroups(realm) {
  const out = [];
  const walk = async (path) => {
    for (const g of await get(`${path}?first=0&max=1000`)) {
      out.push(g);
      if (g.subGroupCount > 0) await walk(`${realmPath(realm)}/groups/${encodeURIComponent(g.id)}/children`);
    }
  };
  await walk(`${realmPath(realm)}/groups`);
  return out;
}
