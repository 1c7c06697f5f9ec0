"""Pictures by their pixels: a screenshot as grey values, a patch of it resampled, and their likeness."""
import io

import numpy as np
import torch
from PIL import Image

from vae.latent import decode


def screenshot(page) -> np.ndarray:
    """The viewport as a grey array [H, W] in [0, 1], in CSS pixels."""
    png = page.screenshot(scale="css")
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float32) / 255.0


def patch(shot: np.ndarray, left: float, top: float, right: float, bottom: float, size: int = 28) -> np.ndarray:
    """The screenshot between two page points, resampled to size × size."""
    box = [int(round(v)) for v in (left, top, right, bottom)]
    crop = Image.fromarray((shot[box[1]:box[3], box[0]:box[2]] * 255).astype(np.uint8))
    return np.asarray(crop.resize((size, size), Image.BILINEAR), dtype=np.float32) / 255.0


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum() + 1e-12))


def canvas_image(page, locator, size: int = 28) -> np.ndarray:
    """A canvas as the screen shows it, resampled to size × size grey values in [0, 1]."""
    box = locator.bounding_box()
    return patch(screenshot(page), box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"], size)


def image_pixels(page, image) -> np.ndarray:
    """The screen's pixels of an <img> (a locator), once it is loaded and in view (grey [H, W] in [0, 1])."""
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    box = image.bounding_box()
    shot = screenshot(page)
    return shot[int(round(box["y"])):int(round(box["y"] + box["height"])),
                int(round(box["x"])):int(round(box["x"] + box["width"]))]


def shown_image(page, caption: str) -> np.ndarray:
    """The screen's pixels of the st.image whose caption starts with `caption`."""
    return image_pixels(page, page.locator("[data-testid=stImage]").filter(has_text=caption).locator("img").first)


def resized(pixels: np.ndarray, size: int = 28) -> np.ndarray:
    crop = Image.fromarray((pixels * 255).astype(np.uint8))
    return np.asarray(crop.resize((size, size), Image.BILINEAR), dtype=np.float32) / 255.0


def strip_frames(strip: np.ndarray, n: int, gap: int = 2) -> list[np.ndarray]:
    """A row of n 28-pixel-wide frames with `gap`-pixel gaps (ui.images.strip, any enlargement), cut back into its
    frames, each 28 × 28."""
    unit = strip.shape[1] / (n * (28 + gap) - gap)
    return [resized(strip[:, int(round(k * (28 + gap) * unit)):int(round((k * (28 + gap) + 28) * unit))])
            for k in range(n)]


def assert_upright(name: str, drawn: np.ndarray, truth: np.ndarray, least: float = 0.95) -> None:
    upright, flipped = similarity(drawn, truth), similarity(drawn, truth[::-1])
    print(f"{name}: similarity upright {upright:.3f}, flipped {flipped:.3f}")
    assert upright > least and upright > flipped + 0.2, (name, upright, flipped)


def decoded(model, z: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return decode(model, torch.as_tensor(np.asarray(z), dtype=torch.float32)).numpy().reshape(len(z), 28, 28)
