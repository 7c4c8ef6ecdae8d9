"""The picture for a student's feedback: test images above, their reconstructions below.

Trusted side only (Pillow). The q7 reconstruction checks' probe returns the first
reconstructions as uint8 images ("shown"); the images themselves are the check's inputs. The
page's caption says which row is which, in the student's language (report_i18n.toml
`image_rows`), so the picture itself carries no words.
"""

import io

import numpy as np

SCALE = 3   # each 32x32 image drawn as 96x96 pixels (nearest neighbour: pixels stay pixels)
GAP = 4     # white pixels between images and around the grid


def reconstruction_png(originals, reconstructions):
    """PNG bytes of a 2-row grid; both arguments are uint8 arrays (n, 32, 32, 3)."""
    from PIL import Image

    originals = np.asarray(originals, dtype=np.uint8)
    reconstructions = np.asarray(reconstructions, dtype=np.uint8)
    n = min(len(originals), len(reconstructions))
    if n == 0 or originals.shape[1:] != (32, 32, 3) or reconstructions.shape[1:] != (32, 32, 3):
        raise ValueError(f"expected uint8 images (n, 32, 32, 3), got {originals.shape} and "
                         f"{reconstructions.shape}")
    side = 32 * SCALE
    grid = np.full((GAP + 2 * (side + GAP), GAP + n * (side + GAP), 3), 255, dtype=np.uint8)
    for row, images in enumerate((originals, reconstructions)):
        for col in range(n):
            big = images[col].repeat(SCALE, axis=0).repeat(SCALE, axis=1)
            top, left = GAP + row * (side + GAP), GAP + col * (side + GAP)
            grid[top:top + side, left:left + side] = big
    buffer = io.BytesIO()
    Image.fromarray(grid, "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def feedback_png(inputs, outputs):
    """The figure for one q7 reconstruction check, from its inputs and the probe's outputs."""
    shown = np.asarray(outputs["shown"])
    return reconstruction_png(np.asarray(inputs["images"])[:len(shown)], shown)
