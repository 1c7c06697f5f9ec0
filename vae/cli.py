"""`python -m vae train | sweep | evaluate | gaps | info` — the command line over the library.

Data-parallel: `torchrun --nproc_per_node=N -m vae train ...` (gloo on CPU, nccl on GPU).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import recipe
from .config import ConfigError, VAEConfig


def _hidden(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(w) for w in text.split(",") if w.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 512,256, got {text!r}") from None


def _floats(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers such as 0.1,0.3,1, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values


def _model_arguments(parser: argparse.ArgumentParser, swept=float) -> None:
    """The flags of every VAEConfig field (vae.recipe), and the data flags; `swept` parses σ_dec and β (a sweep takes
    lists)."""
    parser.add_argument("--data-dir", type=Path, help="folder holding MNIST in torchvision's layout "
                        "(default: $VAE_DATA_DIR, then ./data, then download, then the shipped sample)")
    for name in recipe.FIELDS:
        default, help = getattr(recipe.DEFAULTS, name), recipe.HELP.get(name)
        if isinstance(default, bool):
            parser.add_argument(recipe.flag(name), action="store_true", help=help)
        elif name in recipe.SWEPT:
            parser.add_argument(recipe.flag(name), type=swept, default=default if swept is float else [default],
                                help=help + (" (comma-separated values: a sweep over them)" if swept is not float else ""))
        else:
            parser.add_argument(recipe.flag(name), type=_hidden if isinstance(default, tuple) else type(default),
                                default=default, choices=recipe.CHOICES.get(name), help=help)
    parser.add_argument("--limit", type=int, help="train on the first N training examples only")
    parser.add_argument("--device", default="auto", help="auto (CUDA if there is one), cpu, cuda, cuda:1, ...")
    parser.add_argument("--no-download", action="store_true", help="never try torchvision's download")


def _config(args, **values) -> VAEConfig:
    """The VAEConfig the flags describe (`values` fills σ_dec and β)."""
    return VAEConfig(**{name: getattr(args, name) for name in recipe.FIELDS if name not in values}, **values)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vae", description="Train and evaluate VAEs on MNIST.")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a model and save a checkpoint")
    train.add_argument("--out", type=Path, required=True, help="checkpoint to write (.safetensors)")
    _model_arguments(train)
    train.add_argument("--steps", type=int, help="train exactly this many optimiser steps instead of --epochs "
                       "(a live run's saved command uses it)")
    train.add_argument("--eval-iw-samples", type=int, default=10,
                       help="K for the test-split IWAE figure stored with the checkpoint (0: skip)")
    train.add_argument("--save-test-latents", action="store_true",
                       help="store the test set's latent means (and, for d > 2, a t-SNE map) in the checkpoint")

    sweep = sub.add_parser("sweep", help="train one model per σ_dec (or β) and record rate and distortion")
    sweep.add_argument("--out-dir", type=Path, required=True, help="folder for the checkpoints and sweep.json")
    sweep.add_argument("--prefix", help="name prefix of the checkpoints (default: <dataset>-<d>d)")
    sweep.add_argument("--save-test-latents", action="store_true",
                       help="store each model's test latent means (and, for d > 2, a t-SNE map) for the app")
    _model_arguments(sweep, swept=_floats)
    sweep.add_argument("--eval-iw-samples", type=int, default=10, help="K for each model's test IWAE figure")

    ev = sub.add_parser("evaluate", help="ELBO parts and IWAE log p(x) on the test split")
    ev.add_argument("checkpoint", type=Path)
    ev.add_argument("--data-dir", type=Path)
    ev.add_argument("--iw-samples", type=int, default=100, help="K importance samples per example")
    ev.add_argument("--limit", type=int, help="the first N test examples only")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--sigma-dec", type=float, help="evaluate at another σ_dec than the model's")
    ev.add_argument("--device", default="auto")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--no-download", action="store_true")
    ev.add_argument("--save", action="store_true",
                    help="store these test figures in the checkpoint (its metrics['test']; whole test split only)")
    ev.add_argument("--save-test-latents", action="store_true",
                    help="with --save: also store the test set's latent means (and t-SNE map) for the app")

    ev.add_argument("--refine-steps", type=int, metavar="K",
                    help="also refine each image's q by K steps of ascent on its own ELBO, started at the encoder's "
                         "(semi-amortised inference), and report the ELBO gained and the share of the gap it closes")

    gaps = sub.add_parser("gaps", help="each test image's gap split into the approximation and amortisation gaps")
    gaps.add_argument("checkpoints", type=Path, nargs="+")
    gaps.add_argument("--data-dir", type=Path)
    gaps.add_argument("--images", type=int, default=500, help="the first N test images")
    gaps.add_argument("--seed", type=int, default=0)
    gaps.add_argument("--out", type=Path, help="the JSON to write (default: gaps/<name>.json beside the checkpoint)")
    gaps.add_argument("--device", default="auto")
    gaps.add_argument("--no-download", action="store_true")

    info = sub.add_parser("info", help="print a checkpoint's config, metrics and command")
    info.add_argument("checkpoint", type=Path)
    return parser


def _load(name: str, split: str, args):
    from .data import load_dataset

    dataset = load_dataset(name, split, args.data_dir, download=False if args.no_download else None,
                           fallback=args.data_dir is None)
    if dataset.notice:
        print(f"note: {dataset.notice}", file=sys.stderr)
    return dataset


def _progress(total: int, desc: str, unit: str, enabled: bool = True):
    """A progress bar on stderr, shown on a terminal only."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=False,
                file=sys.stderr, dynamic_ncols=True, disable=not enabled or None)


def cmd_train(args) -> int:
    import torch

    from . import checkpoint
    from .distributed import close_world, init_world
    from .evaluate import evaluate
    from .units import LABELS as BITS_LABELS
    from .model import resolve_device
    from .train import DivergenceError, Trainer

    if args.steps is not None and args.steps < 0:
        print(f"error: --steps must be 0 or more, got {args.steps}", file=sys.stderr)
        return 2
    config = _config(args, sigma_dec=args.sigma_dec, beta=args.beta)
    world, device = init_world(resolve_device(args.device))
    try:
        train_set = _load(config.dataset, "train", args).subset(args.limit)
        trainer = Trainer(config, train_set.to_float(device), device, world=world)
        meta = {"command": recipe.train_command(config, args.limit, args.save_test_latents, args.eval_iw_samples), "data_source": train_set.source,
                "train_examples": len(train_set), "world_size": world.size, "torch": torch.__version__}
        say = print if world.is_main else (lambda *a, **k: None)
        say(f"training {config.latent_dim}-D {config.likelihood} VAE on {len(train_set):,} examples "
            f"({device}, {world.size} process{'es' if world.size > 1 else ''})", flush=True)
        metrics = {}
        total = config.epochs * trainer.steps_per_epoch if args.steps is None else args.steps
        if config.lr_schedule == "cosine" and total > config.epochs * trainer.steps_per_epoch:
            raise ValueError(f"the cosine schedule decays lr to 0 over --epochs {config.epochs} "
                             f"({config.epochs * trainer.steps_per_epoch} steps); --steps {total} goes past its end "
                             "(raise --epochs)")
        epochs = -(-total // trainer.steps_per_epoch)  # the last one may end early (--steps)
        try:
            for epoch in range(1, epochs + 1):
                steps = min(trainer.steps_per_epoch, total - trainer.step)
                with _progress(steps, f"epoch {epoch}/{epochs}", "step", world.is_main) as bar:
                    m = trainer.run_steps(steps, on_progress=lambda part: bar.update(part.steps))
                metrics = {"train": m.to_dict()}
                say(f"epoch {epoch}/{epochs}  loss {m.loss:8.2f}  elbo {m.elbo:8.2f}  "
                    f"recon {m.reconstruction:8.2f}  kl {m.kl:6.2f}  active {m.active_dims()}/{config.latent_dim}  "
                    f"{m.steps_per_s:6.0f} steps/s  {m.seconds:5.1f} s", flush=True)
                if world.is_main:  # saved every epoch: an interrupted run keeps its last whole epoch
                    checkpoint.save(args.out, trainer.model, metrics, meta)
        except KeyboardInterrupt:
            say(f"interrupted; the last finished epoch is saved in {args.out}" if metrics else "interrupted",
                file=sys.stderr)
            return 130
        except DivergenceError as exc:
            say(f"error: {exc}", file=sys.stderr)
            say(f"{args.out} holds the last whole epoch before it." if metrics else "Nothing was saved.", file=sys.stderr)
            return 2
        if world.is_main and (args.eval_iw_samples > 0 or args.save_test_latents or not metrics):
            test = _load(config.dataset, "test", args)
            extras = {}
            if args.eval_iw_samples > 0:
                metrics["test"] = evaluate(trainer.model, test.to_float(device), iw_samples=args.eval_iw_samples)
                metrics["test"]["data_source"] = test.source
                t = metrics["test"]
                say(f"test: elbo {t['elbo']:.2f}  log p(x) ≥ {t['log_px_iwae']:.2f} nats (IWAE, K={args.eval_iw_samples})"
                    + "".join(f"  {t[key]:.3f} {label}" for key, label in BITS_LABELS.items() if key in t))
            if args.save_test_latents:
                from .latent import test_latent_extras

                extras = test_latent_extras(trainer.model, test.to_float(device), test.labels)
                meta["test_latents_source"] = test.source
            checkpoint.save(args.out, trainer.model, metrics, meta, extras)
        say(f"saved {args.out}")
        world.barrier()
        return 0
    finally:
        close_world(world)


def cmd_sweep(args) -> int:
    from .model import resolve_device
    from .sweep import run_sweep

    if len(args.sigma_dec) > 1 and len(args.beta) > 1:
        raise ConfigError("sweep over σ_dec or over β, not both: give one of them a single value")
    parameter, values = ("beta", args.beta) if len(args.beta) > 1 else ("sigma_dec", args.sigma_dec)
    base = _config(args, sigma_dec=args.sigma_dec[0], beta=args.beta[0])
    for value in values:  # refuse a bad value before any training starts
        base.replace(**{parameter: value})
    device = resolve_device(args.device)
    train_set = _load(base.dataset, "train", args).subset(args.limit)
    test_set = _load(base.dataset, "test", args)
    prefix = args.prefix or f"{base.dataset}-{base.latent_dim}d"
    command = recipe.sweep_command(base, parameter, values, args.out_dir, prefix, args.limit, args.save_test_latents,
                                   args.eval_iw_samples)
    print(f"sweep over {parameter}: {len(values)} models of {base.epochs} epochs on {len(train_set):,} examples",
          flush=True)
    with _progress(len(values) * base.epochs, "sweep", "epoch") as bar:
        def on_model(p):
            print(f"{p.name}: rate {p.rate:7.2f} nats  distortion {p.distortion:7.2f}  elbo {p.elbo:8.2f}  "
                  f"active {p.active_dims}/{base.latent_dim}", flush=True)

        run_sweep(base, parameter, values, args.out_dir, train_set.to_float(device), test_set.to_float(device),
                  prefix, command, args.eval_iw_samples, on_epoch=lambda *_: bar.update(1), on_model=on_model,
                  test_labels=test_set.labels if args.save_test_latents else None)
    print(f"saved {len(values)} checkpoints and sweep.json in {args.out_dir}")
    return 0


def cmd_evaluate(args) -> int:
    from . import checkpoint
    from .evaluate import evaluate
    from .units import LABELS as BITS_LABELS
    from .model import resolve_device

    if args.save and (args.limit is not None or args.sigma_dec is not None):
        raise ValueError("--save stores the figures of the whole test split at the model's own σ_dec: "
                         "drop --limit and --sigma-dec")
    if args.save_test_latents and not args.save:
        raise ValueError("--save-test-latents needs --save")
    device = resolve_device(args.device)
    ckpt = checkpoint.load(args.checkpoint, device)
    if args.sigma_dec is not None:
        ckpt.config.replace(sigma_dec=args.sigma_dec)  # refuses σ_dec ≤ 0 with a ConfigError
    test = _load(ckpt.config.dataset, "test", args).subset(args.limit)
    with _progress(len(test), "evaluate", "image") as bar:
        result = evaluate(ckpt.model, test.to_float(device), args.iw_samples, args.seed, args.sigma_dec,
                          on_progress=lambda done, total: bar.update(done - bar.n))
    result.update(checkpoint=str(args.checkpoint), split="test", data_source=test.source)
    if args.refine_steps is not None:
        result.update(_refined(ckpt.model, test.to_float(device), args))
        gap = result["log_px_iwae"] - result["elbo_amortised"]  # IWAE's: a lower bound, so the share is an upper one
        result["gap_closed"] = result["refine_gain"] / gap if gap > 0 else float("nan")
    if args.save:
        extras = dict(ckpt.extras)
        if args.save_test_latents:
            from .latent import test_latent_extras

            extras = test_latent_extras(ckpt.model, test.to_float(device), test.labels)
        meta = dict(ckpt.meta, evaluate_command=f"python -m vae evaluate {args.checkpoint} --iw-samples "
                    f"{args.iw_samples} --seed {args.seed} --save" + (" --save-test-latents" if args.save_test_latents else ""))
        metrics = dict(ckpt.metrics, test={k: v for k, v in result.items() if k != "checkpoint"})
        checkpoint.save(args.checkpoint, ckpt.model, metrics, meta, extras)
    if args.json:
        print(json.dumps(result))
    else:
        for key in ("elbo", "reconstruction", "squared_error", "constant", "kl", "log_px_iwae", "gap"):
            print(f"{key:>19}  {result[key]:12.4f}  nats per image")
        for key, label in BITS_LABELS.items():
            if key in result:
                print(f"{key:>19}  {result[key]:12.4f}  {label}, lower is better")
        if "refine_steps" in result:
            print(f"{'refined elbo':>19}  {result['elbo_refined']:12.4f}  nats per image after "
                  f"{result['refine_steps']} steps, from {result['elbo_amortised']:.4f}: "
                  f"+{result['refine_gain']:.4f}, {100 * result['gap_closed']:.1f} % of the gap closed")
        print(f"{'active dims':>19}  {result['active_dims']}/{ckpt.config.latent_dim}   "
              f"(n = {result['n']:,}, K = {result['iw_samples']})")
    return 0


def _refined(model, data, args) -> dict:
    """`evaluate --refine-steps K`: the mean ELBO of the encoder's q and of q after K ascent steps, scored on the same
    draws, the gain, and the share of the gap log p(x) − ELBO (IWAE's) it closes."""
    from .evaluate import binarize_fixed
    from .gaps import refined_elbos

    if args.refine_steps < 0:
        raise ValueError(f"--refine-steps must be 0 or more, got {args.refine_steps}")
    if model.config.binarize:
        data = binarize_fixed(data, args.seed)
    with _progress(len(data), f"refine {args.refine_steps} steps", "image") as bar:
        before, after = refined_elbos(model, data, args.refine_steps, args.sigma_dec, samples=100, seed=args.seed,
                                      on_progress=lambda done, total: bar.update(done - bar.n))
    return {"refine_steps": args.refine_steps, "elbo_amortised": float(before.mean()),
            "elbo_refined": float(after.mean()), "refine_gain": float((after - before).mean())}


def cmd_gaps(args) -> int:
    from . import checkpoint, gaps
    from .evaluate import binarize_fixed
    from .model import resolve_device

    if args.images < 1:
        raise ValueError(f"--images must be at least 1, got {args.images}")
    if args.out is not None and len(args.checkpoints) > 1:
        raise ValueError("--out names one file: give one checkpoint with it")
    device = resolve_device(args.device)
    for path in args.checkpoints:
        ckpt = checkpoint.load(path, device)
        test = _load(ckpt.config.dataset, "test", args).subset(args.images)
        data = test.to_float(device)
        if ckpt.config.binarize:
            data = binarize_fixed(data, args.seed)
        with _progress(len(test), f"gaps {path.stem}", "image") as bar:
            def report(done, total, what):
                bar.set_description(f"{path.stem}: {what}")
                bar.n = done
                bar.refresh()

            results = gaps.test_set(ckpt.model, data, test.labels, range(len(test)), seed=args.seed,
                                    on_progress=report, name=path.stem, data_source=test.source,
                                    command=f"python -m vae gaps {path} --images {args.images} --seed {args.seed}")
        out = args.out or gaps.results_path(path)
        gaps.save_results(out, results)
        split = gaps.splits_of(results)
        mean = lambda name: sum(getattr(s, name) for s in split) / len(split)  # noqa: E731
        print(f"{path.stem}: {len(split)} images, gap {mean('total'):.3f} = approximation {mean('approximation'):.3f}"
              f" + amortisation {mean('amortisation'):.3f} nats per image ({results['seconds']:.0f} s) → {out}")
    return 0


def cmd_info(args) -> int:
    from . import checkpoint

    ckpt = checkpoint.load(args.checkpoint)
    print(json.dumps({"config": ckpt.config.to_dict(), "metrics": ckpt.metrics, "meta": ckpt.meta,
                      "extras": {k: list(v.shape) for k, v in ckpt.extras.items()}}, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    from .checkpoint import CheckpointError
    from .data import DataError

    args = build_parser().parse_args(argv)
    try:
        commands = {"train": cmd_train, "sweep": cmd_sweep, "evaluate": cmd_evaluate, "gaps": cmd_gaps,
                    "info": cmd_info}
        return commands[args.command](args)
    except (ConfigError, DataError, CheckpointError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
