"""Why q misses, walked in the browser: one image's split with q_φ's and q*'s ellipses where the math puts them, the
test set's view read against the shipped results, a click on an image with a large amortisation gap, and σ_dec
moved. Screenshots in test-artifacts/gaps_*.png."""
import io
import re

import numpy as np
import pytest
from PIL import Image

from tests.support import ROOT
from tests.support.server import needs_chromium
from tests.support.walk import check, new_session, settle
from vae import checkpoint, gaps
from vae.data import load_dataset

pytestmark = pytest.mark.slow
needs_chromium()
ARTIFACTS = ROOT / "test-artifacts"
MODEL, INDEX = "mnist-2d-sigma0.3", 1  # test #1: q_φ beside the posterior, q* inside it (amortisation ≈ 5.7 nats)

L2P_JS = """([points]) => {
  const gd = document.querySelector('.st-key-gaps_contours .js-plotly-plot')
          || document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[0];
  const fl = gd._fullLayout;
  const box = gd.querySelector('.draglayer .nsewdrag').getBoundingClientRect();
  return [points.map(([x, y]) => [box.left + fl.xaxis.l2p(x), box.top + fl.yaxis.l2p(y)]),
          [box.left, box.top, box.right, box.bottom]];
}"""


def colour_centre(rgb: np.ndarray, area, mask) -> tuple[float, float, int]:
    """The mean pixel (x, y) of the pixels inside `area` (left, top, right, bottom) that `mask(rgb)` picks, and how
    many there are."""
    left, top, right, bottom = (int(round(v)) for v in area)
    inside = rgb[top:bottom, left:right]
    rows, cols = np.nonzero(mask(inside))
    return left + cols.mean(), top + rows.mean(), len(rows)


def crimson(p):
    return (p[..., 0] > 150) & (p[..., 1] < 90) & (p[..., 2] < 110)


def green(p):  # q*'s #1a7f37
    return (p[..., 1] > 95) & (p[..., 0] < 90) & (p[..., 2] < 100) & (p[..., 1] > p[..., 0] + 40)


def table_value(page, row: str) -> float:
    """The nats of the split table's row that starts with `row`."""
    cells = page.locator("[data-testid=stMain] table tr", has_text=row).first.locator("td").all_inner_texts()
    return float(cells[2].replace("−", "-"))


def test_why_q_misses_shows_both_ellipses_the_test_set_and_opens_an_image_from_it(browser, server):
    saved = checkpoint.load(ROOT / "checkpoints" / f"{MODEL}.safetensors")
    test = load_dataset("mnist", "test")
    x = test.images[INDEX].flatten().float() / 255
    found = gaps.split(saved.model, x)
    results = gaps.load_results(gaps.results_path(ROOT / "checkpoints" / f"{MODEL}.safetensors"))
    splits = gaps.splits_of(results)
    ARTIFACTS.mkdir(exist_ok=True)
    with new_session(browser, timeout=180) as page:  # opened here: the split takes seconds, so wait for its table
        page.goto(f"{server}/gaps?model={MODEL}&gaps_index={INDEX}")
        page.locator("[data-testid=stMain] table tr", has_text="total gap").first.wait_for(timeout=180_000)
        page.locator(".st-key-gaps_contours .js-plotly-plot").first.wait_for(timeout=180_000)
        settle(page, timeout=180)
        check(page, step="one image's split")
        # 1. The table holds the split computed here.
        assert table_value(page, "approximation gap") == pytest.approx(found.approximation, abs=0.01)
        assert table_value(page, "amortisation gap") == pytest.approx(found.amortisation, abs=0.01)
        assert table_value(page, "total gap") == pytest.approx(found.total, abs=0.01)
        # 2. q_φ's crimson ellipses centred on μ_φ, q*'s green ones on μ*, where the chart's own transform puts them.
        page.locator(".st-key-gaps_contours").scroll_into_view_if_needed()
        settle(page)
        (at_phi, at_star), area = page.evaluate(L2P_JS, [[[float(v) for v in found.mu],
                                                          [float(v) for v in found.optimal_mu]]])
        rgb = np.asarray(Image.open(io.BytesIO(page.screenshot(scale="css"))).convert("RGB"), dtype=np.float32)
        page.screenshot(path=ARTIFACTS / "gaps_one_image.png", full_page=True)
        for name, mask, want in (("q_φ", crimson, at_phi), ("q*", green, at_star)):
            cx, cy, count = colour_centre(rgb, area, mask)
            print(f"{name}: ellipse centre ({cx:.1f}, {cy:.1f}) px from {count} pixels, μ at ({want[0]:.1f}, "
                  f"{want[1]:.1f})")
            assert count > 100, (name, count)
            assert abs(cx - want[0]) < 4 and abs(cy - want[1]) < 4, (name, (cx, cy), want)
        assert np.hypot(at_phi[0] - at_star[0], at_phi[1] - at_star[1]) > 15  # two ellipses apart, not one

        # 3. The test set: the headline against the shipped results.
        head = gaps.summary(splits)
        sentence = page.get_by_text(re.compile(r"The amortisation gap is the larger for \d+ %"))
        sentence.scroll_into_view_if_needed()
        text = sentence.inner_text()
        assert f"the approximation gap {head['approximation']['mean']:.2f}" in text, text
        assert f"amortisation gap {head['amortisation']['mean']:.2f}" in text, text
        assert f"larger for {100 * head['amortisation_larger']:.0f} %" in text, text
        page.locator(".st-key-gaps_by_class").scroll_into_view_if_needed()
        settle(page)
        page.screenshot(path=ARTIFACTS / "gaps_test_set.png", full_page=True)

        # 4. A click on the image with the largest amortisation gap makes it section 1's.
        top = max(range(len(splits)), key=lambda i: splits[i].amortisation)
        chosen = int(results["index"][top])
        page.get_by_role("button", name=f"#{chosen}", exact=True).click()
        page.get_by_text(f"test #{chosen}:").first.wait_for(timeout=180_000)
        settle(page, timeout=180)
        page.locator(".st-key-gaps_contours .js-plotly-plot").first.wait_for(timeout=180_000)
        check(page, step="an image from the test set")
        assert table_value(page, "amortisation gap") == pytest.approx(splits[top].amortisation, rel=0.01, abs=0.05)
        page.locator(".st-key-gaps_contours").scroll_into_view_if_needed()
        settle(page)
        page.screenshot(path=ARTIFACTS / "gaps_largest_amortisation.png", full_page=True)
