"""Train the reference autoencoder and measure the numbers the trained-model thresholds rest on.

    python scripts/train_autoencoder_reference.py [--data DIR] [--epochs N] [--threads N]
                                                  [--train-images N] [--out DIR]

Trains reference/autoencoder.py's Autoencoder(64) exactly as question 7 of the notebook does
(same constants, checked by tests/test_autoencoder.py), on CPU, and writes to
assignments/autoencoder/files/:

    autoencoder.pt                 the reference checkpoint (the "correct" example submission)
    autoencoder-weak.pt            the same training stopped after WEAK_STEPS steps, in float16
                                   (the "partly wrong" example submission)
    reference-measurements.json    what the grader's q7 probes and judges measure on the
                                   reference, the weak and an untrained model, for several
                                   grading seeds, plus PCA for context

The thresholds in assignments/autoencoder/judges.py are set from these numbers (see the
assignment's README.md).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from neurograde.data.cifar10 import load_cifar10, to_tensor  # noqa: E402
from neurograde.judge import _run_probe  # noqa: E402
from neurograde.probe import default_seed, make_plan  # noqa: E402
from neurograde.spec import load_assignment  # noqa: E402

# The notebook's question-7 constants (tests/test_autoencoder.py checks they agree).
EPOCHS = 12
BATCH_SIZE = 128
LEARNING_RATE = 2e-3
NOISE_STD = 0.1
LATENT_DIM = 64
WEAK_STEPS = 300
EXTRA_SEEDS = (1, 2, 3, 4, 5)
FILES = ROOT / "assignments" / "autoencoder" / "files"


def _loader(X):
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X),
                                       batch_size=BATCH_SIZE, shuffle=True)


def train(ref, X_train, epochs, log):
    """The notebook's training cell, verbatim in substance."""
    torch.manual_seed(0)
    model = ref.Autoencoder(LATENT_DIM)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    loader = _loader(X_train)
    losses, started = [], time.monotonic()
    for epoch in range(epochs):
        loss = ref.train_epoch(model, loader, optimizer, noise_std=NOISE_STD)
        schedule.step()
        losses.append(loss)
        log(f"epoch {epoch + 1}/{epochs}: training MSE {loss:.5f} "
            f"({time.monotonic() - started:.0f} s)")
    return model, losses, time.monotonic() - started


def train_weak(ref, X_train):
    """The same start, stopped after WEAK_STEPS optimizer steps."""
    torch.manual_seed(0)
    model = ref.Autoencoder(LATENT_DIM)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss = ref.train_epoch(model, itertools.islice(_loader(X_train), WEAK_STEPS), optimizer,
                           noise_std=NOISE_STD)
    return model, loss


def full_test_mse(model, X_test):
    model.eval()
    with torch.no_grad():
        total = sum(float(((model(X_test[i:i + 500]) - X_test[i:i + 500]) ** 2).sum())
                    for i in range(0, len(X_test), 500))
    return total / X_test.numel()


def grading_measurements(assignment, checkpoint: Path, seeds) -> dict:
    """The q7 probes and judges on a checkpoint, as the grader runs them, per grading seed."""
    ref = assignment.reference
    ns = {"Autoencoder": ref.Autoencoder, "__reference_checkpoint__": str(checkpoint)}
    judges = assignment.judges
    rows = []
    for seed in seeds:
        plan = make_plan(assignment, seed)
        for planned in plan.parent_checks:
            if planned.check.question != "q7":
                continue
            outputs = _run_probe(plan, planned, ns)
            judge = getattr(assignment.judges, planned.check.judge)
            fraction, messages = judge(planned.inputs, outputs, outputs)
            row = {"seed": seed, "check": planned.check.name, "fraction": round(fraction, 4)}
            clean = judges.clean_images(planned.inputs.get("images", np.zeros((0, 1, 1, 1))))
            if "reconstructions" in outputs:
                mse = judges.mse(outputs["reconstructions"], clean)
                row.update(mse=mse, pca_mse=planned.inputs["pca_mse"],
                           ratio=mse / planned.inputs["pca_mse"])
            elif "denoised" in outputs:
                noisy_mse = judges.mse(outputs["noisy"], clean)
                denoised_mse = judges.mse(outputs["denoised"], clean)
                row.update(noisy_mse=noisy_mse, denoised_mse=denoised_mse,
                           gain=noisy_mse / denoised_mse)
            else:
                row["accuracy"] = assignment.judges.ridge_probe_accuracy(
                    outputs["train_features"], planned.inputs["train_labels"],
                    outputs["test_features"], planned.inputs["test_labels"])
            rows.append(row)
    return {"rows": rows, "summary": _summary(rows)}


def _summary(rows) -> dict:
    out = {}
    for key in ("ratio", "gain", "accuracy"):
        for name in sorted({r["check"] for r in rows if key in r}):
            values = [r[key] for r in rows if r["check"] == name and key in r]
            out[f"{name}: {key}"] = {"min": min(values), "mean": float(np.mean(values)),
                                     "max": max(values)}
    return out


def pca_context(assignment, checks, seeds) -> dict:
    """What PCA with 64 components scores on the same denoising and linear-probe checks."""
    mean, P = checks.pca_basis()
    judges = assignment.judges
    gains, accuracies, raw = [], [], []
    for seed in seeds:
        plan = make_plan(assignment, seed)
        for planned in plan.parent_checks:
            name = planned.check.probe
            if name == "checkpoint_denoising":
                x = torch.from_numpy(planned.inputs["images"]).permute(0, 3, 1, 2)
                x = x.reshape(len(x), -1).to(torch.float64) / 255.0
                noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(
                    planned.inputs["seed"]))
                noisy = (x + planned.inputs["noise_std"] * noise.to(torch.float64)).clamp(0, 1)
                rebuilt = (noisy - mean) @ P @ P.T + mean
                gains.append(float(((noisy - x) ** 2).mean() / ((rebuilt - x) ** 2).mean()))
            elif name == "checkpoint_features":
                def codes(images):
                    flat = torch.from_numpy(images).permute(0, 3, 1, 2).reshape(len(images), -1)
                    return ((flat.to(torch.float64) / 255.0 - mean) @ P).numpy(), flat.numpy()
                (fit, fit_raw), (test, test_raw) = (codes(planned.inputs["train_images"]),
                                                    codes(planned.inputs["test_images"]))
                accuracies.append(judges.ridge_probe_accuracy(
                    fit, planned.inputs["train_labels"], test, planned.inputs["test_labels"]))
                raw.append(judges.ridge_probe_accuracy(
                    fit_raw, planned.inputs["train_labels"], test_raw,
                    planned.inputs["test_labels"]))
    return {"pca64_denoising_gain": {"min": min(gains), "mean": float(np.mean(gains))},
            "pca64_linear_probe_accuracy": {"min": min(accuracies),
                                            "mean": float(np.mean(accuracies))},
            "raw_pixels_linear_probe_accuracy": {"min": min(raw), "mean": float(np.mean(raw))}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="folder holding cifar10/ (default: the "
                        "loader's lookup)")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--train-images", type=int, default=None,
                        help="train on the first N training images only (default: all 50,000)")
    parser.add_argument("--out", type=Path, default=FILES)
    parser.add_argument("--measure-only", action="store_true",
                        help="do not train: measure the checkpoints already in --out again "
                             "(after a change to the checks), keeping the recorded training")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    log = lambda *a: print(*a, flush=True)  # noqa: E731
    assignment = load_assignment("autoencoder")
    ref = assignment.reference
    from importlib import import_module  # checks.py is loaded by the spec, under its own name
    assignment.checks  # noqa: B018  (loads and validates checks.py)
    checks = import_module(f"neurograde_checks_{assignment.slug}")

    X_test = to_tensor(load_cifar10(args.data, split="test")[0])
    paths = {"reference": args.out / "autoencoder.pt", "weak": args.out / "autoencoder-weak.pt"}
    report_path = args.out / "reference-measurements.json"
    if args.measure_only:
        training = json.loads(report_path.read_text())["training"]
        model, weak = ref.Autoencoder(LATENT_DIM), ref.Autoencoder(LATENT_DIM)
        model.load_state_dict(torch.load(paths["reference"], weights_only=True))
        weak.load_state_dict(torch.load(paths["weak"], weights_only=True))
    else:
        X_train = to_tensor(load_cifar10(args.data, split="train", limit=args.train_images)[0])
        log(f"training Autoencoder({LATENT_DIM}) on {len(X_train)} images for {args.epochs} "
            f"epochs with {torch.get_num_threads()} threads")
        model, losses, seconds = train(ref, X_train, args.epochs, log)
        weak, weak_loss = train_weak(ref, X_train)
        args.out.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), paths["reference"])
        torch.save({k: v.half() for k, v in weak.state_dict().items()}, paths["weak"])
        training = {"epochs": args.epochs, "batch_size": BATCH_SIZE,
                    "learning_rate": LEARNING_RATE, "schedule": "cosine", "optimizer": "Adam",
                    "noise_std": NOISE_STD, "train_images": len(X_train),
                    "seconds": round(seconds, 1), "epoch_losses": losses,
                    "weak_steps": WEAK_STEPS, "weak_training_loss": weak_loss,
                    # Other jobs on the machine slow training down; this says how busy it was.
                    "load_average_after": os.getloadavg()}
    seeds = [default_seed(assignment), *EXTRA_SEEDS]  # the release draws from default_seed too
    with tempfile.TemporaryDirectory() as tmp:
        torch.manual_seed(0)
        paths["untrained"] = Path(tmp) / "untrained.pt"
        torch.save(ref.Autoencoder(LATENT_DIM).state_dict(), paths["untrained"])
        measured = {name: grading_measurements(assignment, path, seeds)
                    for name, path in paths.items()}
    for name, net in (("reference", model), ("weak", weak)):
        measured[name]["full_test_set_mse"] = full_test_mse(net, X_test)
    test_u8 = load_cifar10(args.data, split="test")[0]
    report = {
        "data": str(args.data or "loader lookup"),
        "machine": {"python": platform.python_version(), "torch": torch.__version__,
                    "threads": torch.get_num_threads(), "processor": platform.processor()},
        "training": training,
        "pca64_full_test_set_mse": checks.pca_mse(test_u8),
        "seeds": seeds,
        "measured": measured,
        "pca_context": pca_context(assignment, checks, seeds),
    }
    path = report_path
    path.write_text(json.dumps(report, indent=1) + "\n")
    log(json.dumps({k: v["summary"] for k, v in measured.items()}, indent=1))
    log(json.dumps(report["pca_context"], indent=1))
    log(f"wrote {paths['reference']}, {paths['weak']} and {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
