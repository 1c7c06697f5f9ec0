"""The app in a real browser: `streamlit run` on a free port, Debian's Chromium driven by Playwright.

Screenshots of every page land in test-artifacts/ (git-ignored). CI installs Chromium; elsewhere
the test is skipped, with the reason, when Chromium or Playwright is missing.
"""
import re
import time
import urllib.parse

import pytest
from playwright.sync_api import expect

from tests.support import ROOT, eventually
from tests.support.figure_lint import Console
from tests.support.server import needs_chromium, streamlit_server
from tests.support.walk import (
    SCATTER,
    click_point,
    draw_a_seven,
    new_session,
    runs,
    settle,
    step_count,
    wait_for_steps_beyond,
    wait_idle,
    watch,
)

ARTIFACTS = ROOT / "test-artifacts"

needs_chromium()


@pytest.fixture(scope="module")
def app(browser, server):
    """(url, page): one tab (one session) for the module's tests, which go from page to page in it (`open_page`)."""
    ARTIFACTS.mkdir(exist_ok=True)
    with new_session(browser, timeout=60) as page:
        yield server, page


def open_page(page, url, path):
    """Open the page at `url`/`path` and wait until the app is idle (a drawing or click made while the first run is
    still drawing the page can be lost under load): by its link in the sidebar when the tab shows another page of the
    app, as a person goes on (the same session, no page load: Streamlit's and Plotly's scripts are not run again),
    else by its address."""
    before = runs(page)
    link = page.get_by_test_id("stSidebarNav").locator(f"a[href$='/{path}']")
    if page.url.startswith(url) and urllib.parse.urlparse(location(page)).path != f"/{path}" and link.count():
        link.first.click()
    else:
        page.goto(f"{url}/{path}")
    page.get_by_role("heading").first.wait_for()
    wait_idle(page, since=before, timeout=60)


def metric(page, label: str) -> str:
    card = page.get_by_test_id("stMetric").filter(has_text=label).first
    return card.get_by_test_id("stMetricValue").inner_text()


def location(page) -> str:
    """The address bar as the app last set it (Playwright's page.url can lag behind history.pushState)."""
    return page.evaluate("() => location.href")


def z_caption(page) -> str:
    return page.locator("p", has_text=re.compile(r"^z = \(")).inner_text()  # the image caption, not the hover


def test_explore_click_a_point_then_empty_space(app):
    url, page = app
    open_page(page, url, "explore")
    page.wait_for_selector(SCATTER)
    page.get_by_text("Click a dot in the scatter.").wait_for()
    settle(page)
    page.screenshot(path=ARTIFACTS / "explore.png", full_page=True)

    click_point(page, curve=1, index=37)  # the test digits' trace; customdata index = 37
    page.get_by_text("test #37:").wait_for()
    page.get_by_text("decode(μ)").wait_for()
    settle(page)
    page.screenshot(path=ARTIFACTS / "explore-clicked.png", full_page=True)

    page.get_by_text("Server-side decoding (sliders)").click()
    before = z_caption(page)
    x, y = page.evaluate("() => { const t = document.querySelector('.js-plotly-plot')._fullData[0]; "
                         "return [t.x[38 * 40 + 2], t.y[38 * 40 + 2]]; }")
    click_point(page, curve=0, index=38 * 40 + 2)  # a point of the invisible click grid, near the top-left
    assert eventually(lambda: z_caption(page) != before), "clicking empty space did not move z"
    assert z_caption(page) == f"z = ({x:.2f}, {y:.2f})"


def test_explore_drag_the_pad_decodes_in_the_browser_and_returns_z(app):
    url, page = app
    open_page(page, url, "explore")
    pad = page.locator("canvas.pad")
    pad.wait_for()
    digit = page.locator("canvas.digit")
    before = digit.evaluate("c => c.toDataURL()")
    frames = page.evaluate("() => window.__vaePadStats.frames")
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 60, box["y"] + 80)
    page.mouse.down()
    for i in range(1, 31):
        page.mouse.move(box["x"] + 60 + 8 * i, box["y"] + 80 + 6 * i)
        page.wait_for_timeout(16)
    page.mouse.up()
    assert page.evaluate("() => window.__vaePadStats.frames") >= frames + 10  # decoded frame by frame
    assert digit.evaluate("c => c.toDataURL()") != before  # the digit changed while dragging
    readout = page.locator("div.readout").inner_text()
    page.get_by_text("Server-side decoding (sliders)").click()
    assert eventually(lambda: z_caption(page) == readout), (z_caption(page), readout)  # z went back to Python
    page.screenshot(path=ARTIFACTS / "explore-pad.png", full_page=True)


def test_interpolate_page_draws_both_strips(app):
    url, page = app
    open_page(page, url, "interpolate")
    page.get_by_role("heading", name="slerp").wait_for()
    page.wait_for_selector(SCATTER)
    settle(page)
    page.screenshot(path=ARTIFACTS / "interpolate.png", full_page=True)
    assert page.locator("img").count() >= 3


def test_elbo_page_sigma_moves_the_reconstruction_term(app):
    url, page = app
    open_page(page, url, "elbo")
    label = "Reconstruction term (this digit)"
    page.get_by_test_id("stMetric").filter(has_text=label).wait_for()
    before = metric(page, label)
    slider = page.get_by_role("slider").first
    slider.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert eventually(lambda: metric(page, label) != before), "moving σ did not change the reconstruction term"
    page.screenshot(path=ARTIFACTS / "elbo.png", full_page=True)


def test_train_live_play_chart_advances_then_pause(app):
    url, page = app
    open_page(page, url, "train")
    page.get_by_text("2,000", exact=True).click()
    page.get_by_role("button", name="Create model").click()
    page.get_by_role("radio", name="Play", exact=True).wait_for()
    page.get_by_role("radio", name="Play", exact=True).click()
    first = wait_for_steps_beyond(page, 0)
    assert wait_for_steps_beyond(page, first) > first  # the run advances by itself
    page.get_by_text("ELBO (blue) and reconstruction (orange) against step").wait_for()
    page.get_by_text("Latent means of 1,000 test digits at step").wait_for()  # its own fragment: every 6 s
    settle(page)
    page.screenshot(path=ARTIFACTS / "train-live.png", full_page=True)
    page.get_by_role("radio", name="Pause", exact=True).click()
    # Pause taken. The button's name is its icon's and its word ("skip_next Step"); the charts' toolbar buttons are
    # named after their charts, whose text alternatives speak of steps too
    expect(page.get_by_role("button", name=re.compile(r"\bStep$"))).to_be_enabled(timeout=30_000)
    wait_idle(page, timeout=60)  # the slice in flight when Pause was pressed completes and is shown
    paused = step_count(page)
    assert paused > first  # the count is still shown, past the one seen playing
    page.wait_for_timeout(2000)  # two of the panel's refreshes, had it gone on
    assert step_count(page) == paused  # paused: no further steps


def test_models_page_lists_the_shipped_models(app):
    url, page = app
    open_page(page, url, "models")
    page.get_by_test_id("stExpander").filter(has_text="mnist-16d-sigma0.3").first.wait_for()
    settle(page)
    page.screenshot(path=ARTIFACTS / "models.png", full_page=True)


@pytest.mark.parametrize("script", ["serve.py", "app.py"])
def test_a_deep_link_on_a_fresh_server_opens_the_page_inside_the_app(browser, mnist_dir, tmp_path, script):
    """Streamlit's legacy pages/ mode would run the page alone; the app reroutes it through app.py (serve.py turns the
    mode off before the first session; `streamlit run app.py` gets ui/shell.require_app's rerun). The legacy mode
    finds a page by its file's name: /reparameterisation (then pages/sampling.py) said "Page not found"."""
    with streamlit_server({"VAE_DATA_DIR": str(mnist_dir), "VAE_STATE_DIR": str(tmp_path)}, script=script) as (url, _, _):
        with new_session(browser, timeout=60) as page:
            console = Console(page)
            page.goto(f"{url}/reparameterisation")  # the first request this server sees
            page.get_by_role("heading", name="The reparameterisation and the Monte-Carlo ELBO").wait_for()
            nav = page.get_by_test_id("stSidebarNav")
            assert eventually(lambda: "Explore the latent space" in nav.inner_text())
            assert urllib.parse.urlparse(page.url).path == "/reparameterisation"
            seen = console.take()
            if script == "app.py":  # without serve.py's hint, the frontend's two 404s per link (serve.py's docstring)
                seen = [e for e in seen if "404" not in e and "/_stcore/" not in e]
            assert not seen


def websocket_messages(page) -> tuple[list, list]:
    """([(epoch seconds, ForwardMsg)], [BackMsg]): every websocket message the page receives and sends from now on."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    received, sent = [], []

    def parse(kind, payload):
        message = kind()
        message.ParseFromString(payload if isinstance(payload, bytes) else payload.encode())
        return message

    page.on("websocket", lambda ws: (ws.on("framereceived", lambda p: received.append((time.time(), parse(ForwardMsg, p)))),
                                     ws.on("framesent", lambda p: sent.append(parse(BackMsg, p)))))
    return received, sent


def test_a_fresh_servers_first_page_runs_once_and_has_plotly_loading_before_the_server_answers(browser, mnist_dir,
                                                                                             tmp_path):
    """The README's server (serve.py), its first request a deep link, from a browser never seen (no key cookie). The
    page ran twice (the legacy pages/ run, then app.py's: 0.7 s), then again for the key the new browser made and
    reported; and the browser fetched Plotly's 4.7 MB chunk only when the first chart arrived, after the run: the
    scatter drew 1.58x later than a bare page's. Now the key comes with the page, in a cookie, and is the browser's."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    with streamlit_server({"VAE_DATA_DIR": str(mnist_dir), "VAE_STATE_DIR": str(tmp_path)}) as (url, _, _):
        context = browser.new_context()
        try:
            page = context.new_page()
            watch(page)
            messages, sent = websocket_messages(page)
            page.goto(f"{url}/elbo")  # a page of charts without the latent pad (which asks for its weights: a run)
            page.wait_for_selector(".js-plotly-plot", timeout=60_000)
            page.wait_for_function("() => localStorage.getItem('vae-browser-key')")  # ui/browser_key has run
            wait_idle(page, timeout=60)
            chunk = page.evaluate("""() => performance.getEntriesByType('resource')
              .filter(e => e.name.includes('/static/js/PlotlyChart.'))
              .map(e => [e.name, (performance.timeOrigin + e.startTime) / 1000])[0]""")
            assert chunk is not None, "the Plotly chunk was never fetched"
            assert page.request.get(chunk[0]).status == 200
            key = page.evaluate("() => localStorage.getItem('vae-browser-key')")
            assert [c["value"] for c in context.cookies() if c["name"] == "vae_browser_key"] == [key]
        finally:
            context.close()
    finished = [m.script_finished for _, m in messages if m.WhichOneof("type") == "script_finished"]
    assert finished[0] == ForwardMsg.FINISHED_SUCCESSFULLY, finished  # not cut short to rerun
    asked = [m for m in sent if m.WhichOneof("type") == "rerun_script"]
    assert len(asked) == 1, asked[1:]  # the page's own first run, no key report after it
    first = next(t for t, m in messages if m.WhichOneof("type") == "new_session")
    assert chunk[1] < first, f"Plotly's chunk requested {chunk[1] - first:.2f} s after the server's first message"


def test_a_browser_whose_cookie_is_gone_keeps_the_key_in_its_storage(browser, class_server):
    """serve.py proposes a key to a browser without a cookie; one that has a key in its localStorage (its cookie
    cleared) keeps that one, and with it its models."""
    from classroom import db, identity, models
    from vae import VAE, VAEConfig, checkpoint

    url, database = class_server
    context = browser.new_context()
    try:
        page = context.new_page()
        watch(page)
        page.goto(f"{url}/models")
        wait_idle(page, since=0, start_timeout=10, timeout=120)
        key = page.wait_for_function("() => localStorage.getItem('vae-browser-key')").json_value()  # ui/browser_key ran
        models.save(db.engine(database), identity.of_browser(key), "kept-under-my-key",
                    checkpoint.to_bytes(VAE(VAEConfig(latent_dim=2, hidden=(16,)))), "mnist")
        context.clear_cookies()
        page.reload()
        wait_idle(page, since=0, start_timeout=10, timeout=120)
        expect(page.get_by_test_id("stExpander").filter(has_text="kept-under-my-key  (yours)")).to_have_count(1)
        assert [c["value"] for c in context.cookies() if c["name"] == "vae_browser_key"] == [key]
    finally:
        context.close()


def test_draw_a_digit_then_it_is_framed_like_mnist_and_encoded(app):
    url, page = app
    open_page(page, url, "draw")
    draw_a_seven(page)
    page.get_by_text("your drawing, as MNIST frames it").wait_for()
    page.get_by_text("its reconstruction").wait_for()
    elbo = float(metric(page, "ELBO").replace(",", ""))
    kl = float(metric(page, "KL(q ‖ p(z))").replace(",", ""))
    assert kl > 0 and elbo < 1e4
    settle(page)
    page.screenshot(path=ARTIFACTS / "draw.png", full_page=True)
    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Draw on the black square.").wait_for()


def test_posterior_page_draws_the_true_posterior_and_q(app):
    url, page = app
    open_page(page, url, "posterior")
    page.get_by_text("log p(x), grid integral").wait_for()
    page.wait_for_selector(".js-plotly-plot .contour, .js-plotly-plot .contourlayer")
    settle(page)
    page.screenshot(path=ARTIFACTS / "posterior.png", full_page=True)


def test_rate_distortion_page_marks_the_collapse(app):
    url, page = app
    open_page(page, url, "rate_distortion")
    page.get_by_text("posterior collapse").first.wait_for()
    settle(page)
    page.screenshot(path=ARTIFACTS / "rate-distortion.png", full_page=True)


def test_a_shared_link_reopens_the_same_view_in_a_new_session(app, browser):
    url, _ = app
    with new_session(browser, timeout=60) as page:
        page.goto(f"{url}/elbo?model=mnist-2d-sigma1.0&elbo_index=7&elbo_sigma=1")
        page.get_by_text("test #7:").wait_for()
        assert "mnist-2d-sigma1.0" in page.get_by_test_id("stSidebar").get_by_role("combobox").input_value()
        spin = page.get_by_label("Test digit", exact=True)  # the chart and picture's text alternatives say "test digit" too
        spin.fill("12")
        spin.press("Enter")
        page.get_by_text("test #12:").wait_for()
        assert eventually(lambda: "elbo_index=12" in location(page)), location(page)
        link = location(page)
        with new_session(browser, timeout=60) as other:
            other.goto(link)
            other.get_by_text("test #12:").wait_for()
            assert "mnist-2d-sigma1.0" in other.get_by_test_id("stSidebar").get_by_role("combobox").input_value()
        # Fashion-MNIST: a sidebar choice, its own models, in the URL too
        wait_idle(page)
        page.get_by_test_id("stSidebar").get_by_text("Fashion-MNIST").click()
        assert eventually(lambda: "dataset=Fashion-MNIST" in location(page)), location(page)
        assert eventually(lambda: "fashion-2d-sigma0.3" in page.get_by_test_id("stSidebar").get_by_role("combobox").input_value())
        page.get_by_test_id("stSidebarNav").get_by_text("Explore the latent space").click()
        page.wait_for_selector(SCATTER)
        settle(page)
        page.screenshot(path=ARTIFACTS / "explore-fashion.png", full_page=True)
        page.locator(".legendtext", has_text="Sneaker").first.wait_for()


def test_a_link_keeps_the_unit_the_grid_size_and_the_pads_dimensions(app, browser):
    """A bits-per-dimension ELBO view reopened in nats; the manifold grid size and the pad's dimensions were lost."""
    url, _ = app
    with new_session(browser, timeout=60) as page:
        page.goto(f"{url}/elbo")
        page.get_by_text("bits per dim").click()
        assert eventually(lambda: "elbo_unit=bits+per+dim" in location(page)), location(page)
        page.goto(f"{url}/explore?model=mnist-16d-sigma0.3")
        page.get_by_text("Projection of the 16-D means").wait_for()
        grid = page.get_by_role("slider", name="Manifold grid size")
        grid.focus()
        for _ in range(4):
            page.keyboard.press("ArrowLeft")
        assert eventually(lambda: "explore_grid_n=11" in location(page)), location(page)
        page.get_by_label("Pad y").click()  # a selectbox: choose z5 for the pad's vertical axis
        page.get_by_role("option", name="z5", exact=True).click()
        assert eventually(lambda: "explore_pad_y=z5" in location(page)), location(page)
        link = location(page)
        page.goto(f"{url}/elbo?elbo_unit=bits+per+dim")
        page.get_by_text("ELBO decomposition").first.wait_for()
        assert page.get_by_role("radio", name="bits per dim").is_checked()
        page.goto(link)  # a new session from the copied Explore link
        page.get_by_text("Projection of the 16-D means").wait_for()
        grid = page.get_by_role("slider", name="Manifold grid size")
        assert eventually(lambda: grid.input_value() == "11"), grid.evaluate("e => e.outerHTML")
        assert eventually(lambda: "z5" in page.get_by_label("Pad y").inner_text()
                          or page.get_by_label("Pad y").input_value() == "z5")


def test_pad_on_a_16d_model_moves_the_other_dimensions_with_sliders_in_the_browser(app):
    """Last in the module: it switches this session's model to the 16-D one."""
    url, page = app
    open_page(page, url, "explore")
    page.get_by_test_id("stSidebar").get_by_role("combobox").click()
    page.get_by_role("option", name="mnist-16d-sigma0.3", exact=False).click()
    page.get_by_text("Projection of the 16-D means").wait_for()
    sliders = page.locator("div.sliders input")
    assert eventually(lambda: sliders.count() == 14)  # z3 … z16; the pad moves z1 and z2
    digit = page.locator("canvas.digit")
    before = digit.evaluate("c => c.toDataURL()")
    frames = page.evaluate("() => window.__vaePadStats.frames")
    slider = sliders.nth(3)
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.95, box["y"] + box["height"] / 2)
    assert float(slider.input_value()) > 3
    # each slider shows its value (z3 … z16 showed none)
    assert slider.evaluate("e => e.nextElementSibling.textContent") == f"{float(slider.input_value()):.2f}"
    assert sliders.nth(0).evaluate("e => e.closest('label').innerText").startswith("z3")
    assert all(o for o in page.locator("div.sliders output").all_inner_texts())
    assert eventually(lambda: digit.evaluate("c => c.toDataURL()") != before)
    assert page.evaluate("() => window.__vaePadStats.frames") > frames
    page.screenshot(path=ARTIFACTS / "explore-pad-16d.png", full_page=True)


def drop_first_message(page, to_server: bool, matches) -> list:
    """Route the tab's Streamlit websocket through the test and drop the first message (to the server, or to the page)
    that `matches(bytes)`; the returned list gets that message's size."""
    dropped = []

    def route(ws):
        server_side = ws.connect_to_server()

        def relay(target, watched: bool):
            def forward(message):
                data = message if isinstance(message, bytes) else message.encode()
                if watched and not dropped and matches(data):
                    dropped.append(len(data))
                    return
                target.send(message)
            return forward

        ws.on_message(relay(server_side, watched=to_server))
        server_side.on_message(relay(ws, watched=not to_server))

    page.route_web_socket(re.compile(r".*/_stcore/stream"), route)
    return dropped


def test_the_pad_gets_its_weights_when_its_request_is_lost(browser, server):
    """Under load the pad once stayed blank for good: it asked for the decoder's weights once (a trigger), and when
    that request came to nothing (the run it started cut short, the trigger not taken) nothing asked again. Here the
    websocket drops the pad's first request; the pad must ask again and draw."""
    with new_session(browser, timeout=60) as page:
        dropped = drop_first_message(page, to_server=True, matches=lambda data: b"need_weights" in data)
        page.goto(f"{server}/explore?model=mnist-16d-sigma0.3")
        page.locator(".vae-pad .sliders input").first.wait_for(timeout=30_000)  # drawn: it has the weights
    assert dropped, "the pad never asked"


def test_the_pad_gets_its_weights_when_the_message_carrying_them_is_lost(browser, server):
    """The other half: the server sends the weights once (about 1 MB, in one run's message); when that message never
    reaches the component, the pad must ask again and draw."""
    with new_session(browser, timeout=60) as page:
        # the weights: nothing else on this page is that large
        dropped = drop_first_message(page, to_server=False, matches=lambda data: len(data) > 500_000)
        page.goto(f"{server}/explore?model=mnist-16d-sigma0.3")
        page.locator(".vae-pad .sliders input").first.wait_for(timeout=30_000)  # drawn: it has the weights
    assert dropped, "no message carried the weights"
