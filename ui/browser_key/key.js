// This browser's secret key: made once (here, or by serve.py in the first page's cookie), kept in localStorage (every
// tab and reload of this browser shares it; no other browser sees it), and mirrored into a cookie so that the server
// knows it from a session's first run. The key goes to Python only when Python knows none or another; the server
// keeps only its hash.
const KEY = "vae-browser-key";
const COOKIE = "vae_browser_key";

function fresh() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const valid = (key) => typeof key === "string" && /^[A-Za-z0-9_-]{43}$/.test(key);

export default function (component) {
  const { data, setStateValue } = component;
  const cookie = document.cookie.split("; ").filter((c) => c.startsWith(`${COOKIE}=`)).map((c) => c.slice(COOKIE.length + 1))[0];
  let key = localStorage.getItem(KEY);
  if (!valid(key)) {
    key = valid(cookie) ? cookie : fresh();  // a key the server proposed with the page (serve.py), else a new one
    localStorage.setItem(KEY, key);
  }
  if (cookie !== key) {
    document.cookie = `${COOKIE}=${key}; path=${data.path}; max-age=${data.max_age}; SameSite=Strict`;
  }
  // The server knows this browser by its cookie; it hears the key when it knows none, or knows another one.
  if (!data.known || cookie !== key) setStateValue("key", key);
}
