"""The picture for a student's feedback: test images above, their reconstructions below.

Trusted side only (matplotlib). The q7 reconstruction checks' probe returns the first
reconstructions as uint8 images ("shown"); the images themselves are the check's inputs.
"""

import io

import numpy as np


def reconstruction_png(originals, reconstructions, title="original (top) / reconstructed "
                                                          "(bottom)"):
    """PNG bytes of a 2-row grid; both arguments are uint8 arrays (n, 32, 32, 3)."""
    from matplotlib.figure import Figure  # no pyplot: no global state, safe in threads

    originals = np.asarray(originals, dtype=np.uint8)
    reconstructions = np.asarray(reconstructions, dtype=np.uint8)
    n = min(len(originals), len(reconstructions))
    if n == 0 or originals.shape[1:] != (32, 32, 3) or reconstructions.shape[1:] != (32, 32, 3):
        raise ValueError(f"expected uint8 images (n, 32, 32, 3), got {originals.shape} and "
                         f"{reconstructions.shape}")
    fig = Figure(figsize=(1.2 * n, 2.7), dpi=100)
    axes = fig.subplots(2, n, squeeze=False)
    for col in range(n):
        for row, images in enumerate((originals, reconstructions)):
            axes[row, col].imshow(images[col], interpolation="nearest")
            axes[row, col].axis("off")
    fig.suptitle(title, fontsize=9)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def feedback_png(inputs, outputs):
    """The figure for one q7 reconstruction check, from its inputs and the probe's outputs."""
    shown = np.asarray(outputs["shown"])
    return reconstruction_png(np.asarray(inputs["images"])[:len(shown)], shown)
