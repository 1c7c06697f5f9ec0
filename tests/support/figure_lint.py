"""What a student sees that is wrong, read off the rendered page: words broken mid-word or cut with an ellipsis,
chart labels on top of each other, log-axis ticks that do not read as their values ("9" for 0.9), a line drawn
exactly under another, a chart wider than its column or its plot squeezed by its legend, a legend cut at the chart's
edge, an equation wider than its column, a stray "None", and the browser console's warnings.

    problems = lint(page)            # a list of plain sentences, empty when the page is clean
    console = Console(page)          # collects warnings, errors and failed requests from now on
"""
from __future__ import annotations

import re
import urllib.parse

LINT_JS = r"""() => {
  const problems = [];
  const roots = [document.querySelector('[data-testid=stMain]'), document.querySelector('[data-testid=stSidebar]')]
    .filter(root => root && root.getAttribute('data-collapsed') !== 'true');  // a phone's folded sidebar: not shown
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };

  // 1. A line break inside a word ("Reconstructio / n").
  const letter = /[\p{L}\p{N}]/u;
  for (const root of roots) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let node, budget = 60000;
    while ((node = walker.nextNode()) && budget > 0) {
      const el = node.parentElement, text = node.textContent;
      if (!el || text.trim().length < 2 || !visible(el)) continue;
      if (el.closest('svg, script, style, code, pre, canvas, textarea, [data-testid=stDataFrame], [role=tooltip]')) continue;
      budget -= text.length;
      let prevTop = null, prevLetter = false;
      for (let i = 0; i < text.length; i++) {
        range.setStart(node, i); range.setEnd(node, i + 1);
        const rects = range.getClientRects();
        if (!rects.length) { prevTop = null; continue; }
        const isLetter = letter.test(text[i]);
        if (prevTop !== null && isLetter && prevLetter && rects[0].top > prevTop + 2)
          problems.push(`word broken across lines: "${text.slice(Math.max(0, i - 20), i)}|${text.slice(i, i + 12)}"`);
        prevTop = rects[0].top; prevLetter = isLetter;
      }
    }
  }

  // 2. Text cut off with an ellipsis.
  for (const root of roots) for (const el of root.querySelectorAll('*')) {
    if (el.textContent.trim() && visible(el) && el.scrollWidth > el.clientWidth + 1
        && getComputedStyle(el).textOverflow === 'ellipsis')
      problems.push(`text cut off: "${el.textContent.trim().slice(0, 60)}"`);
  }

  // 3. A stray "None" or "null" on the page (a value echoed by Streamlit's magic, an unset caption).
  for (const root of roots) for (const el of root.querySelectorAll('*')) {
    if (!el.childElementCount && /^(None|null|undefined)$/.test(el.textContent.trim()) && visible(el))
      problems.push(`a stray "${el.textContent.trim()}" on the page`);
  }

  const plots = [...document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')].filter(visible);
  plots.forEach((gd, p) => {
    const name = `chart ${p + 1}` + (gd.layout && gd.layout.title && gd.layout.title.text ? ` ("${gd.layout.title.text}")` : '');
    // 4. Chart texts on top of each other (bar labels, point labels, annotations, ticks, axis titles, legend).
    const texts = [...gd.querySelectorAll('.xtick text, .ytick text, [class^=g-x] text, [class^=g-y] text, '
      + '.annotation text, .bartext, .textpoint text, .legendtext, .gtitle')]
      .filter(t => t.textContent.trim() && visible(t)).map(t => [t, t.getBoundingClientRect()]);
    for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
      const [a, ra] = texts[i], [b, rb] = texts[j];
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 1 && h > 1)
        problems.push(`${name}: labels overlap: "${a.textContent.trim().slice(0, 30)}" and "${b.textContent.trim().slice(0, 30)}"`);
    }
    const layout = gd._fullLayout || {};
    for (const key of Object.keys(layout).filter(k => /^[xy]axis\d*$/.test(k))) {
      const ax = layout[key];
      // 5. Log-axis ticks that do not read as the value at their place.
      if (ax.type === 'log' && ax._vals) for (const tick of ax._vals) {
        const label = String(tick.text || '').replace(/<[^>]*>/g, '').replace(/\u2212/g, '-').trim();
        if (!label) continue;
        const value = Number(label);
        if (!Number.isFinite(value) || value <= 0 || Math.abs(Math.log10(value) - tick.x) > 0.01)
          problems.push(`${name}: log ${key} tick "${label}" stands at ${Math.pow(10, tick.x).toPrecision(3)}`);
      }
    }
    // 6. A line drawn within 2 px of another over the whole visible range: one of them cannot be seen.
    const lines = (gd._fullData || []).filter(t => t.visible === true && t.type === 'scatter' && String(t.mode).includes('lines')
      && t.x && t.y && t.x.length > 2 && t.showlegend !== false);
    for (let i = 0; i < lines.length; i++) for (let j = i + 1; j < lines.length; j++) {
      const a = lines[i], b = lines[j];
      if (a.xaxis !== b.xaxis || a.yaxis !== b.yaxis || a.x.length !== b.x.length) continue;
      const xa = layout[a.xaxis.replace('x', 'xaxis')], ya = layout[a.yaxis.replace('y', 'yaxis')];
      let shown = 0, apart = false;
      for (let k = 0; k < a.x.length; k++) {
        if (a.x[k] !== b.x[k]) { apart = true; break; }
        const pa = ya.c2p(a.y[k]), pb = ya.c2p(b.y[k]), px = xa.c2p(a.x[k]);
        if (![pa, pb, px].every(Number.isFinite) || px < 0 || px > xa._length) continue;
        if ((pa < 0 || pa > ya._length) && (pb < 0 || pb > ya._length)) continue;
        shown += 1;
        if (Math.abs(pa - pb) > 2) { apart = true; break; }
      }
      if (!apart && shown > 2) problems.push(`${name}: "${a.name}" lies under "${b.name}" (within 2 px everywhere)`);
    }
  });

  // 7. A chart wider than its column: its right part runs under the next column, or is cut.
  for (const chart of document.querySelectorAll('[data-testid=stMain] [data-testid=stPlotlyChart], '
                                                + '[data-testid=stMain] [data-testid=stVegaLiteChart]')) {
    if (!visible(chart)) continue;
    const column = chart.closest('[data-testid=stColumn]') || chart.closest('[data-testid=stMainBlockContainer]');
    const limit = column.getBoundingClientRect().right;
    for (const drawn of chart.querySelectorAll('canvas, svg.main-svg, .vega-embed svg')) {
      const r = drawn.getBoundingClientRect();
      if (r.width && r.right > limit + 2)
        problems.push(`a chart is ${Math.round(r.right - limit)} px wider than its column (${chart.getAttribute('data-testid')})`);
    }
  }

  // 8. A Vega chart whose plot is squeezed by its own legend and axes: Streamlit fits the whole chart into its
  //    height, and a legend under a 180-px chart left the plot 30 px high with one tick.
  for (const chart of document.querySelectorAll('[data-testid=stMain] [data-testid=stVegaLiteChart]')) {
    const drawn = chart.querySelector('.vega-embed svg'), plot = chart.querySelector('.role-frame.root > g > path.background');
    if (!visible(chart) || !drawn || !plot) continue;
    const high = plot.getBoundingClientRect().height, total = drawn.getBoundingClientRect().height;
    if (high < 0.4 * total)
      problems.push(`a chart's plot is ${Math.round(high)} px high of the ${Math.round(total)} px it takes`);
  }
  // 9. A Plotly legend, note or title cut at the chart's edge ("test b" for "test batch (mean)", "posterior collaps"
  //    at a phone's width; a title of three lines whose first was half above the chart): its text runs past it.
  plots.forEach((gd, p) => {
    const svg = gd.querySelector('svg.main-svg');
    if (!svg) return;
    const edge = svg.getBoundingClientRect();
    for (const t of gd.querySelectorAll('.legend .legendtext, .legendtitletext, .annotation-text, .gtitle')) {
      const r = t.getBoundingClientRect();
      if (r.width && (r.right > edge.right + 1 || r.left < edge.left - 1 || r.bottom > edge.bottom + 1
                      || r.top < edge.top - 1))
        problems.push(`chart ${p + 1}: its ${t.closest('.legend') ? 'legend' : t.matches('.gtitle') ? 'title' : 'note'}`
                      + ` is cut at the edge: "${t.textContent.trim().slice(0, 40)}"`);
    }
  });

  // 10. A KaTeX equation wider than its column: it scrolls sideways, and its end (the numbers) is out of sight.
  for (const eq of document.querySelectorAll('[data-testid=stMain] .katex-display')) {
    if (visible(eq) && eq.scrollWidth > eq.clientWidth + 1)
      problems.push(`an equation is ${eq.scrollWidth - eq.clientWidth} px wider than its column: `
                    + `"${(eq.querySelector('annotation') || eq).textContent.trim().slice(0, 60)}"`);
  }
  return [...new Set(problems)];
}"""

# Console lines that are the headless browser's, not the app's.
BROWSER_NOISE = re.compile(r"GPU stall due to ReadPixels|WebGL|swiftshader|Automatic fallback to software WebGL", re.I)


def lint(page) -> list[str]:
    """The problems `LINT_JS` finds on the page as it is now drawn."""
    return page.evaluate(LINT_JS)


LOCAL_HOSTS = ("127.0.0.1", "localhost")


class Console:
    """Collects the page's console warnings and errors, its failed requests (status ≥ 400) and any request that
    leaves the machine (the favicon was fetched from fonts.gstatic.com), from now on."""

    def __init__(self, page):
        self.lines: list[str] = []
        page.on("console", self._console)
        page.on("response", lambda r: r.status >= 400 and self.lines.append(f"HTTP {r.status} {r.url}"))
        page.on("request", self._request)
        page.on("pageerror", lambda exc: self.lines.append(f"page error: {exc}"))

    def _request(self, request) -> None:
        url = urllib.parse.urlsplit(request.url)
        if url.scheme not in ("data", "blob") and url.hostname not in LOCAL_HOSTS:
            self.lines.append(f"a request outside the machine: {request.url[:200]}")

    def _console(self, message) -> None:
        if message.type in ("warning", "error") and not BROWSER_NOISE.search(message.text):
            self.lines.append(f"console {message.type}: {message.text[:300]}")

    def take(self) -> list[str]:
        lines, self.lines = self.lines, []
        return lines
