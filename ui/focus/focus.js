// Moves the keyboard focus to an element of the page after the run that asked for it (ui/focus.py): once per
// request (its nonce), when the script run has ended and the page has stopped changing, so that React does not
// replace the element after it took the focus. The target is a CSS selector; inside it, the first control that
// takes the focus, else the element itself (made focusable with tabindex="-1", as a heading is).
const CONTROL = 'button:not([disabled]), a[href], input:not([disabled]):not([type=hidden]), select:not([disabled]), '
  + 'textarea:not([disabled]), [role=slider], [tabindex]:not([tabindex="-1"])';
const QUIET_MS = 120, GIVE_UP_MS = 8000;

export default function (component) {
  const { data } = component;
  if (!data || !data.selector || window.__vaeFocusNonce === data.nonce) return;
  window.__vaeFocusNonce = data.nonce;
  const start = performance.now();
  let changedAt = performance.now();
  const observer = new MutationObserver(() => { changedAt = performance.now(); });
  observer.observe(document.body, { subtree: true, childList: true, attributes: true });
  const idle = () => {
    const app = document.querySelector('[data-testid=stApp]');
    return !app || app.getAttribute('data-test-script-state') === 'notRunning';
  };
  const attempt = () => {
    const now = performance.now();
    const target = document.querySelector(data.selector);
    if (now - start > GIVE_UP_MS) { observer.disconnect(); return; }
    if (!target || !idle() || now - changedAt < QUIET_MS) { setTimeout(attempt, 40); return; }
    observer.disconnect();
    let element = [...target.querySelectorAll(CONTROL)].find(e => e.getClientRects().length) || null;
    if (!element && target.matches(CONTROL)) element = target;
    if (!element) {
      element = target;
      if (!element.hasAttribute('tabindex')) element.setAttribute('tabindex', '-1');
    }
    element.focus({ preventScroll: false });
    element.scrollIntoView({ block: 'nearest' });
  };
  setTimeout(attempt, 0);
}
