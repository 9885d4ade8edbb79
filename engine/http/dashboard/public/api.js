// Operator actions through the engine's own routes (SPEC 5). When the engine
// has a token the first change answers 401: the page asks for the token once,
// keeps it in sessionStorage (gone with the tab) and sends it as a bearer
// header from then on. A wrong token is forgotten and the API's words shown.

const KEY = "vmpolicy.token";

export function storedToken() {
  return sessionStorage.getItem(KEY);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
}

/**
 * Sends one change. `askToken(reason)` resolves to a token or null (cancelled).
 * Resolves to { ok, status, body, error } — never throws.
 */
export async function change(method, path, body, askToken) {
  let token = storedToken();
  for (let attempt = 0; ; attempt++) {
    let res;
    try {
      res = await fetch(path, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        cache: "no-store",
      });
    } catch (e) {
      return { ok: false, status: 0, body: null, error: `the engine did not answer: ${e.message}` };
    }
    const json = await res.json().catch(() => null);
    const error = json && typeof json.error === "string" ? json.error : res.ok ? null : `HTTP ${res.status}`;
    if (res.status === 401 && attempt === 0) {
      forgetToken();
      token = await askToken(error);
      if (token === null) return { ok: false, status: 401, body: json, error: `${error} (no token given)` };
      sessionStorage.setItem(KEY, token);
      continue;
    }
    if (res.status === 401) forgetToken();
    return { ok: res.ok, status: res.status, body: json, error };
  }
}
