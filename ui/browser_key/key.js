// This browser's secret key: made once, kept in localStorage (every tab and reload of this browser shares it; no
// other browser sees it), and mirrored into a cookie so that the server knows it from a session's first run.
// The key goes to Python only when Python does not know it yet; the server keeps only its hash.
const KEY = "vae-browser-key";
const COOKIE = "vae_browser_key";

function fresh() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export default function (component) {
  const { data, setStateValue } = component;
  let key = localStorage.getItem(KEY);
  if (!key || !/^[A-Za-z0-9_-]{43}$/.test(key)) {
    key = fresh();
    localStorage.setItem(KEY, key);
  }
  if (!document.cookie.split("; ").includes(`${COOKIE}=${key}`)) {
    document.cookie = `${COOKIE}=${key}; path=${data.path || "/"}; max-age=315360000; SameSite=Strict`;
  }
  if (!data.known) setStateValue("key", key);
}
