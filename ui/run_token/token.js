// Remembers this tab's live-training run across a reload: the run's token lives in sessionStorage, which a
// reload (or the same tab reopened) keeps and no other tab or browser sees. Python sends `store` once, when
// it creates a run; the tab reports what it holds only when Python does not know it yet (after a reload).
const KEY = "vae-live-run";

export default function (component) {
  const { data, setStateValue } = component;
  if (data.store) sessionStorage.setItem(KEY, data.store);
  const held = sessionStorage.getItem(KEY) || "";
  if (held && held !== data.known) setStateValue("token", held);
}
