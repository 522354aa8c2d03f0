// REST access with the bearer token. The token lives in sessionStorage: it is gone when the tab
// closes, and never leaves this browser except in the Authorization header of this origin.

const TOKEN_KEY = "ictbot.apiToken";

export class ApiError extends Error {
  constructor(status, message, fields) {
    super(message);
    this.status = status;
    this.fields = fields || [];
  }
}

export const session = {
  token: sessionStorage.getItem(TOKEN_KEY) || "",
  scope: "read",
  onUnauthorized: () => {},
  save(token) { this.token = token; sessionStorage.setItem(TOKEN_KEY, token); },
  forget() { this.token = ""; this.scope = "read"; sessionStorage.removeItem(TOKEN_KEY); },
};

// A link /dashboard#token=... (printed by `ictbot demo`) logs in directly. The fragment is never
// sent to a server; it is stored like a typed token and removed from the address bar.
export function takeTokenFromLink() {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  session.save(decodeURIComponent(match[1]));
  history.replaceState(null, "", window.location.pathname + window.location.search);
}

export async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { "Authorization": "Bearer " + session.token,
    "Content-Type": "application/json", ...(options.headers || {}) } });
  const isJson = (response.headers.get("content-type") || "").includes("json");
  const body = isJson ? await response.json() : await response.text();
  if (response.status === 401) session.onUnauthorized("The token was refused.");
  if (!response.ok) {
    const fields = body && Array.isArray(body.errors) ? body.errors : [];
    const reasons = body && Array.isArray(body.reasons) ? body.reasons : fields.map((e) => e.field + ": " + e.reason);
    const detail = body && body.detail ? body.detail : response.statusText;
    throw new ApiError(response.status, detail + (reasons.length ? " (" + reasons.join("; ") + ")" : ""), fields);
  }
  return body;
}

export const post = (path, body) => api(path, { method: "POST", body: JSON.stringify(body || {}) });
export const put = (path, body) => api(path, { method: "PUT", body: JSON.stringify(body) });
