"""Every figure readable, in Chromium, read off the screen by tests/support/figure_lint.py (words broken or cut, labels
on top of each other, log ticks that do not read as their values, a line hidden under another, a chart wider than
its column, a stray "None"), with the browser's console and failed requests. The tour (test_journeys.py) reads every
page at a wide and a narrow window on a 2-D model, and the model's pages on a 16-D and a Fashion-MNIST model; here
the views a link opens, Train live while it trains, a downloaded figure."""
import re

from PIL import Image

from tests.support.figure_lint import Console, lint
from tests.support.server import needs_chromium
from tests.support.walk import new_session, resize, runs, settle, wait_idle

needs_chromium()

WIDTHS = (1500, 1024, 390)
# Every page is read at 1500 and 1024 px by the tour (test_journeys.py) and at 390 px by test_accessibility.py (the
# guided path's steps too); here the views only a link (or a widget the tour leaves alone) opens, each in a new tab
# as a shared link is opened.
LINKED_VIEWS = ["", "elbo?elbo_mode=a+model+trained+at+each+σ_dec", "reparameterisation?sampling_l=64",
                "posterior?posterior_sigma=2.0"]


def read_page(browser, url: str, widths=WIDTHS) -> list[str]:
    """Open `url` in a new tab, as a shared link is opened; what the lint and the console (failed requests, requests
    that leave the machine) find at each width, and a favicon from elsewhere (a headless browser may never fetch it)."""
    found = []
    with new_session(browser, timeout=90) as page:
        console = Console(page)
        page.goto(url)
        wait_idle(page, timeout=120, since=0, start_timeout=10)
        favicon = page.evaluate("() => document.querySelector(\"link[rel='shortcut icon']\")?.href || ''")
        if not favicon.startswith(("data:", url.split("/", 3)[0] + "//" + url.split("/", 3)[2])):
            found.append(f"the favicon comes from {favicon[:100]}")
        for width in widths:
            resize(page, width)
            found += [f"@{width}px: {problem}" for problem in lint(page)]
        found += console.take()
    return found


def test_each_linked_view_reads_cleanly_at_three_widths(browser, server):
    """The landing page and the views a link sets (the sweep mode, L = 64, the posterior at σ_dec = 2), opened as
    links on the 2-D model, at a wide window, a tablet's and a phone's."""
    problems = []
    for path in LINKED_VIEWS:
        route, _, query = path.partition("?")
        url = f"{server}/{route}?model=mnist-2d-sigma0.3" + (f"&{query}" if query else "")
        problems += [f"/{path}: {p}" for p in read_page(browser, url)]
    assert not problems, "\n".join(problems)


def test_train_live_shows_its_newest_step_in_every_chart_at_every_width(browser, server):
    """The KL chart ran under the KL-per-dimension chart beside it (its axis visibly ended near 21,500 at step
    27,969); the bars read z1, z10, z11 … z9; Vega warned about scale bindings on every update; a "None" stood
    above the heading."""
    with new_session(browser, f"{server}/train?train_latent=12&train_size=2%2C000", timeout=90) as page:
        console = Console(page)
        assert not lint(page), lint(page)
        before = runs(page)
        page.get_by_role("button", name="Create model").click()
        wait_idle(page, since=before, timeout=120)
        page.get_by_role("radio", name=re.compile("Play")).click()
        page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stMetricValue]')]"
                               ".some(m => /^[0-9,]+$/.test(m.innerText) && Number(m.innerText.replace(/,/g, '')) > 100)",
                               timeout=120_000)  # a few slices: the newest step is beyond the first
        page.get_by_role("radio", name=re.compile("Pause")).click()
        wait_idle(page, timeout=60)
        settle(page)
        labels = page.evaluate("() => [...document.querySelectorAll('[data-testid=stVegaLiteChart] svg text, "
                               "[data-testid=stVegaLiteChart] canvas')].length")
        assert labels
        problems = []
        for width in (1500, 1100, 900):
            resize(page, width)
            problems += [f"@{width}px: {p}" for p in lint(page)]
        problems += console.take()
        assert not problems, "\n".join(problems)
        order = page.evaluate("""() => { const charts = [...document.querySelectorAll('[data-testid=stVegaLiteChart]')];
            const bars = charts[charts.length - 2];
            return [...bars.querySelectorAll('svg text')].map(t => t.textContent).filter(t => /^z\\d+$/.test(t)); }""")
        if order:  # the SVG renderer names them; the canvas renderer draws them (then the spec's order is tested)
            assert order == [f"z{i}" for i in range(1, 13)], order


def test_enter_in_the_new_model_form_does_not_create_the_model(browser, server):
    with new_session(browser, f"{server}/train", timeout=60) as page:
        field = page.get_by_label("Latent dimensions")
        field.fill("3")
        field.press("Enter")
        settle(page)
        wait_idle(page, timeout=30)
        assert page.get_by_role("button", name="Create model").count() == 1
        assert page.get_by_role("radiogroup", name="Training", exact=True).count() == 0  # no live controls: nothing created


def test_stepping_l_with_the_keyboard_requests_no_missing_image(browser, server):
    """Each step of L replaced the sample images under the browser: about 40 "404 /media/*.jpg"."""
    with new_session(browser, f"{server}/reparameterisation?model=mnist-2d-sigma0.3&sampling_l=8", timeout=60) as page:
        console = Console(page)
        slider = page.get_by_role("slider", name=re.compile("L, samples"))
        slider.focus()
        for _ in range(12):
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(120)
        wait_idle(page, timeout=60)
        settle(page)
        assert not console.take()
        assert not page.evaluate("() => [...document.querySelectorAll('[data-testid=stMain] img')]"
                                 ".filter(i => i.src.includes('/media/')).length")


def test_a_downloaded_figure_says_what_it_shows_and_nothing_is_cut(browser, server):
    """Plotly's camera button saved 940×340 with no title, and the legend cut ("reconstruction, batch m")."""
    url = f"{server}/elbo?model=mnist-2d-sigma1.0&elbo_index=5&elbo_sigma=0.5"
    with new_session(browser, url, timeout=60) as page:
        page.get_by_text("Reading it.").wait_for()
        chart = page.locator("[data-testid=stMain] .js-plotly-plot").nth(1)
        chart.scroll_into_view_if_needed()
        chart.hover()
        with page.expect_download() as download:
            chart.locator(".modebar-btn[data-title^='Download plot']").click()
        png = Image.open(download.value.path())
        assert png.size[0] >= 2400 and png.size[1] >= 600, png.size  # 1200 px wide at scale 2
        assert download.value.suggested_filename.startswith("mnist-2d-sigma1.0")
        # The same picture as SVG: its title names the model, the image and σ_dec; every text lies inside it.
        svg = page.evaluate("""async () => { const gd = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[1];
            const options = gd._context.toImageButtonOptions;
            return await Plotly.toImage(gd, {format: 'svg', width: options.width, height: options.height}); }""")
        box = page.evaluate("""(svg) => { const host = document.createElement('div'); document.body.appendChild(host);
            host.innerHTML = decodeURIComponent(svg.split(',').slice(1).join(','));
            const root = host.querySelector('svg'), frame = root.getBoundingClientRect();
            const out = [...root.querySelectorAll('text')].filter(t => t.textContent.trim()).map(t => {
              const r = t.getBoundingClientRect();
              return [t.textContent, r.left - frame.left, r.right - frame.left, r.top - frame.top, r.bottom - frame.top]; });
            host.remove(); return [frame.width, frame.height, out]; }""", svg)
    width, height, texts = box
    assert any("mnist-2d-sigma1.0" in t and "test #5" in t for t, *_ in texts), [t for t, *_ in texts][:5]
    cut = [t for t, left, right, top, bottom in texts if left < -1 or right > width + 1 or top < -1 or bottom > height + 1]
    assert not cut, cut
    assert any(t.startswith("ELBO, batch mean") for t, *_ in texts)


def test_the_pads_sliders_take_streamlits_colour(browser, server):
    with new_session(browser, f"{server}/explore?model=mnist-16d-sigma0.3", timeout=60) as page:
        slider = page.locator(".vae-pad .sliders input").first  # in the component's shadow root
        slider.wait_for()
        pad = slider.evaluate("e => getComputedStyle(e).accentColor")
        streamlit = page.evaluate("() => getComputedStyle(document.querySelector("
                                  "'[data-testid=stSliderThumbValue]')).color")  # the primary colour
    assert pad == streamlit, (pad, streamlit)


def test_q_can_be_seen_at_every_sigma(browser, server):
    """At σ_dec = 2 q's ellipses were smaller than the μ marker: the crimson 2σ ellipse on the screen spans
    at least 40 px in each direction, in the panel zoomed onto q."""
    import io

    import numpy as np

    url = f"{server}/posterior?model=mnist-2d-sigma0.3&posterior_sigma=2.0"
    with new_session(browser, url, timeout=90) as page:
        page.get_by_text("log p(x), grid integral").wait_for()
        plot = page.locator("[data-testid=stMain] .js-plotly-plot").first
        plot.scroll_into_view_if_needed()
        settle(page)
        areas = plot.evaluate("gd => [...gd.querySelectorAll('.draglayer .nsewdrag')].map(d => { "
                              "const b = d.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; })")
        rgb = np.asarray(Image.open(io.BytesIO(page.screenshot(scale="css"))).convert("RGB"), dtype=np.float32)
    spans = []
    for left, top, right, bottom in areas:  # each panel's plotting area (not the legend's swatches)
        inside = rgb[int(top):int(bottom), int(left):int(right)]
        rows, cols = np.nonzero((inside[..., 0] > 150) & (inside[..., 1] < 90) & (inside[..., 2] < 110))
        if len(rows) > 50:
            spans.append((np.ptp(cols), np.ptp(rows)))
    assert any(width >= 40 and height >= 40 for width, height in spans), spans
