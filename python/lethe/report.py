"""Figures of certified removal: a workspace's published history, or a demo run.

    python3 -m lethe.report WORKSPACE [--out DIR]
    python3 -m lethe.report --demo DIR [--removals N] [--publish-every K]
                            [--data FMNIST_DIR] [--train-records N] [--test-records N]
                            [--retrains R] [--seed S]

WORKSPACE: writes DIR/privacy.png and DIR/privacy.svg (DIR defaults to
./lethe-report): ε of the whole published history at the model's δ, and its
GDP parameter μ_total, against the records removed so far, one point per
certified release (M3), as the signed certificates state them; for guo, the
residual budget used against removals. The ledger is verified first against
the workspace's own key; a ledger that does not verify is not drawn. A ledger
holds neither accuracy nor times, hence the demo.

--demo DIR: the task of `make demo` (Fashion-MNIST coat, class 4, against
pullover, class 2; rows scaled to norm 1; M3 with the library's defaults,
λ = 1e-4, Δ_max = 0.03, (ε, δ) = (1, 1e-5) per release). It trains, removes N
random records one at a time (timing each removal, wall clock), publishes
after every K removals (K = 1: after each) and measures each release's test
accuracy, then retrains from scratch on the records left (R times, timed) and
measures the retrain's releases. It writes, in PNG and SVG,
  DIR/privacy      ε and μ_total of the published history against removals;
  DIR/accuracy     each release's test accuracy against removals, beside the
                   retrain's;
  DIR/removal-time the histogram of the removal times, with retraining's;
and DIR/demo.json with every number drawn. At (1, 1e-5) per release and
d = 784 the accountant covers 50 releases of one model, so N/K must stay
below 50. --seed chooses the records removed; the noise always comes from
the CSPRNG.

SPDX-License-Identifier: GPL-3.0-or-later
"""
import argparse
import glob
import json
import os
import sys
import time

import numpy as np

import lethe

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
COAT, PULLOVER = 4, 2  # the demo's classes: coat → +1, pullover → −1


def history(ledger):
    """(removed so far, certificate) for every certificate, in order."""
    removed, rows = 0, []
    for path in sorted(glob.glob(os.path.join(ledger, "[0-9]" * 8 + ".json"))):
        with open(path, "rb") as f:
            cert = json.load(f)
        removed += cert["k"]
        rows.append((removed, cert))
    return rows


# ─── Drawing ─────────────────────────────────────────────────────────────────

def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.titlesize": 11, "legend.fontsize": 9,
                         "svg.fonttype": "none"})
    return plt


def _num(v):
    """v rounded to an integer, thousands separated by a space (12 000)."""
    return f"{v:,.0f}".replace(",", " ")


def _save(plt, fig, out, name):
    """DIR/name.png and DIR/name.svg; returns both paths."""
    os.makedirs(out, exist_ok=True)
    fig.tight_layout()
    paths = [os.path.join(out, f"{name}.png"), os.path.join(out, f"{name}.svg")]
    for p in paths:
        fig.savefig(p, dpi=120)
    plt.close(fig)
    return paths


def _privacy(ax, removed, eps, mu, delta, xlabel):
    """ε of the history (left axis) and μ_total (right axis) against removals."""
    ax.step(removed, eps, where="post", marker="o", markersize=4, color="C0",
            label=f"ε of the published history (at δ = {delta:g})")
    ax.set_ylabel("ε of all releases so far", color="C0")
    ax2 = ax.twinx()
    ax2.step(removed, mu, where="post", marker="s", markersize=3, linestyle="--", color="C1",
             label="μ_total = √(Σ μᵢ²), Gaussian DP")
    ax2.set_ylabel("μ_total (Gaussian DP)", color="C1")
    ax2.set_ylim(bottom=0, top=1.08 * max(mu))
    ax.set_ylim(bottom=0, top=1.08 * max(eps))
    lines, labels = ax.get_legend_handles_labels()
    lines2, labels2 = ax2.get_legend_handles_labels()
    ax.legend(lines + lines2, labels + labels2, loc="upper left")
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)


def draw(rows, out):
    """The ledger's figure: DIR/privacy.png and .svg."""
    plt = _pyplot()
    m3 = [(r, c) for r, c in rows if c["mechanism"] == "M3"]
    guo = [(r, c) for r, c in rows if c["mechanism"] == "M1"]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    xlabel = "records removed (certified)"
    if m3:
        first = m3[0][1]
        # the release made at training is the first: ε and μ of one release
        _privacy(ax, [0] + [r for r, _ in m3],
                 [first["epsilon"]] + [c["epsilon_total"] for _, c in m3],
                 [first["sensitivity"] / first["sigma"]] + [c["mu_total"] for _, c in m3],
                 first["delta"], xlabel)
        ax.set_title(f"M3: {len(m3)} certified releases after training "
                     f"(ε = {first['epsilon']:g} each)")
    elif guo:
        x = [r for r, _ in guo]
        used = [c["budget"] - c["remaining_after"] for _, c in guo]
        ax.step(x, used, where="post", marker="o", label="residual used (owner's figure)")
        ax.axhline(guo[0][1]["budget"], color="C3", linestyle=":", label="budget ε'")
        ax.set_ylabel("residual (gradient norm)")
        ax.legend(loc="upper left")
        ax.set_title("guo: Guo et al.'s idealised statement, not a proven guarantee")
        ax.set_xlabel(xlabel)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    else:
        ax.text(0.5, 0.5, "no certificate yet", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_xlabel(xlabel)
    return _save(plt, fig, out, "privacy")


def draw_demo(res, out):
    """The demo's three figures from run_demo's results; returns the paths."""
    plt = _pyplot()
    s = res["settings"]
    rel = res["releases"]
    removed = [r["removed"] for r in rel]
    task = f"n = {_num(s['n_train'])}, d = {s['d']}"
    every = ("after each removal" if s["publish_every"] == 1
             else f"after every {s['publish_every']} removals")
    paths = []

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    _privacy(ax, removed, [r["epsilon_total"] for r in rel], [r["mu_total"] for r in rel],
             s["delta"], f"records removed (one at a time; a release {every})")
    ax.set_title(f"Privacy of the published history: {len(rel)} releases, "
                 f"(ε, δ) = ({s['epsilon']:g}, {s['delta']:g}) each")
    paths += _save(plt, fig, out, "privacy")

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    acc = 100.0 * np.array([r["accuracy"] for r in rel])
    ax.plot(removed, acc, marker="o", markersize=4, color="C0",
            label="published release of the model with the records removed")
    ra = 100.0 * np.array(res["retrain_accuracy"])
    ax.axhspan(ra.min(), ra.max(), color="C2", alpha=0.2, lw=0,
               label=f"retrained from scratch without them: {len(ra)} releases (range)")
    ax.axhline(ra.mean(), color="C2", linestyle="--", label=f"… their mean, {ra.mean():.2f} %")
    lo, hi = min(acc.min(), ra.min()), max(acc.max(), ra.max())
    pad = max(0.5, 0.25 * (hi - lo))
    ax.set_ylim(lo - pad, hi + 2.5 * pad)  # room for the legend above the points
    ax.set_xlabel(f"records removed (one at a time; a release {every})")
    ax.set_ylabel("test accuracy of the release (%)")
    ax.set_title(f"Published accuracy as records are removed\n(M3, ε = {s['epsilon']:g} per "
                 f"release; {_num(s['n_test'])} test images, {task})")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    paths += _save(plt, fig, out, "accuracy")

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    ms = np.array(res["removal_ms"])
    med = np.median(ms)
    retrain_ms = 1e3 * np.median(res["retrain_s"])
    counts, _, _ = ax.hist(ms, bins=min(40, max(10, len(ms) // 4)), color="C0", alpha=0.85,
                           edgecolor="white", label=f"one certified removal ({len(ms)} removals)")
    # the bars and the lines stay in the lower 65 %, the legend above them
    ax.set_ylim(0, counts.max() / 0.65)
    ax.axvline(med, ymax=0.67, color="C3", linestyle="--", label=f"median {med:.2f} ms")
    ax.axvline(ms.max(), ymax=0.67, color="C1", linestyle=":",
               label=f"slowest {ms.max():.2f} ms")
    ax.plot([], [], " ", label=f"retraining from scratch: {_num(retrain_ms)} ms (median of "
                               f"{len(res['retrain_s'])}),\n{_num(retrain_ms / med)}× the "
                               "median removal")
    span = max(ms.max() - ms.min(), 0.05 * med)
    ax.set_xlim(max(0.0, ms.min() - 0.3 * span), ms.max() + 0.3 * span)
    ax.set_xlabel("time of one removal (ms, wall clock; the release not included)")
    ax.set_ylabel("number of removals")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"Certified removal time, Fashion-MNIST coat vs pullover ({task})")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    paths += _save(plt, fig, out, "removal-time")
    return paths


# ─── The demo ────────────────────────────────────────────────────────────────

def load_task(data, train_records=None, test_records=None):
    """The demo's task from the Fashion-MNIST directory data: (X, y, ids) of
    the training and the test records (the first train_records and
    test_records of each, if given)."""
    out = []
    for split, limit in (("train", train_records), ("t10k", test_records)):
        images = os.path.join(data, f"{split}-images-idx3-ubyte.gz")
        labels = os.path.join(data, f"{split}-labels-idx1-ubyte.gz")
        if not os.path.exists(images):
            raise FileNotFoundError(f"{images} not found: give --data DIR, the directory of "
                                    "Fashion-MNIST's IDX files (Debian: dataset-fashion-mnist)")
        X, y, ids = lethe.read_idx(images, labels, classes=(COAT, PULLOVER))
        if limit is not None:
            if limit > len(y):
                raise ValueError(f"{split}: {limit} records asked, the file has {len(y)} of "
                                 "the two classes")
            X, y, ids = X[:limit], y[:limit], ids[:limit]
        out += [X, y, ids]
    return out


def _ms_since(t0):
    return 1e3 * (time.perf_counter() - t0)


def run_demo(data=FASHION_MNIST, removals=40, publish_every=1, train_records=None,
             test_records=None, retrains=3, seed=2024):
    """Train, remove and publish as the module's docstring says; returns a
    dict of every number measured."""
    if removals < 1 or publish_every < 1 or retrains < 1:
        raise ValueError("--removals, --publish-every and --retrains must be at least 1")
    if train_records is not None and train_records < 2 or test_records is not None \
            and test_records < 1:
        raise ValueError("--train-records must be at least 2, --test-records at least 1")
    X, y, ids, Xt, yt, _ = load_task(data, train_records, test_records)
    if removals >= len(y):
        raise ValueError(f"--removals {removals}: the model has {len(y)} records, and one "
                         "must remain")
    params = dict(mechanism="m3", epsilon=1.0, delta=1e-5, lam=1e-4, delta_max=0.03)
    t0 = time.perf_counter()
    model = lethe.CertifiedClassifier(**params).fit(X, y, ids=ids)
    train_s = time.perf_counter() - t0
    b = model.budget()
    releases = [dict(removed=0, release=1, accuracy=model.score(Xt, yt),
                     epsilon_total=b["epsilon_total"], mu_total=b["mu_total"])]
    gone = np.random.default_rng(seed).choice(ids, size=removals, replace=False)
    removal_ms, release_ms, steps, certified = [], [], 0, 0
    for k, who in enumerate(gone, start=1):
        t0 = time.perf_counter()
        rep = model.forget([who])
        removal_ms.append(_ms_since(t0))
        steps += rep.steps
        certified += rep.certified
        if k % publish_every and k < removals:
            continue
        t0 = time.perf_counter()
        try:
            r = model.publish()
        except lethe.RemovalRefused as err:
            raise lethe.RemovalRefused(err.status, f"{err.message} (after {k} removals: "
                                       "ask for fewer, or publish less often with "
                                       "--publish-every)") from None
        release_ms.append(_ms_since(t0))
        releases.append(dict(removed=k, release=r.release, accuracy=model.score(Xt, yt),
                             epsilon_total=r.epsilon_total, mu_total=r.mu_total))
    keep = np.isin(ids, gone, invert=True)
    retrain_s, again = [], None
    for _ in range(retrains):
        t0 = time.perf_counter()
        again = lethe.CertifiedClassifier(**params).fit(X[keep], y[keep], ids=ids[keep])
        retrain_s.append(time.perf_counter() - t0)
    retrain_accuracy = [again.score(Xt, yt)]
    for _ in range(9):
        again.publish()
        retrain_accuracy.append(again.score(Xt, yt))
    return dict(
        settings=dict(task="Fashion-MNIST coat (+1) vs pullover (−1), rows scaled to norm 1",
                      n_train=len(y), n_test=len(yt), d=X.shape[1], removals=removals,
                      publish_every=publish_every, sigma=b["sigma"], seed=seed, **params),
        train_s=train_s, retrain_s=retrain_s, removal_ms=removal_ms, release_ms=release_ms,
        certified=certified, newton_steps=steps, releases=releases, retrain_accuracy=retrain_accuracy)


def demo(out, **kwargs):
    res = run_demo(**kwargs)
    paths = draw_demo(res, out)
    path = os.path.join(out, "demo.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
        f.write("\n")
    s, rel = res["settings"], res["releases"]
    print(f"lethe demo: n = {s['n_train']}, d = {s['d']}, {s['removals']} removals, "
          f"{len(rel)} releases")
    print(f"  removal   median {np.median(res['removal_ms']):.2f} ms; retraining "
          f"{1e3 * np.median(res['retrain_s']):.0f} ms (median of {len(res['retrain_s'])})")
    print(f"  accuracy  {100 * rel[0]['accuracy']:.2f} % published before, "
          f"{100 * rel[-1]['accuracy']:.2f} % after; retrain "
          f"{100 * np.mean(res['retrain_accuracy']):.2f} % (mean of 10 releases)")
    print(f"  history   ε = {rel[-1]['epsilon_total']:.3g} at δ = {s['delta']:g}, "
          f"μ_total = {rel[-1]['mu_total']:.3g}")
    return paths + [path]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m lethe.report",
        description="Figures of certified removal: a workspace's published history "
                    "(WORKSPACE), or a demo run on Fashion-MNIST (--demo DIR)")
    parser.add_argument("workspace", nargs="?", help="a workspace whose ledger to draw")
    parser.add_argument("--out", default="lethe-report",
                        help="with WORKSPACE: directory for the figures (default ./lethe-report)")
    demo_args = parser.add_argument_group("demo")
    demo_args.add_argument("--demo", metavar="DIR",
                           help="run the demo and write its figures and demo.json to DIR")
    demo_args.add_argument("--removals", type=int, default=40,
                           help="records removed one at a time (default 40)")
    demo_args.add_argument("--publish-every", type=int, default=1, metavar="K",
                           help="publish after every K removals (default 1)")
    demo_args.add_argument("--data", default=FASHION_MNIST,
                           help=f"Fashion-MNIST's IDX files (default {FASHION_MNIST})")
    demo_args.add_argument("--train-records", type=int, metavar="N",
                           help="only the first N training records (default all 12 000)")
    demo_args.add_argument("--test-records", type=int, metavar="N",
                           help="only the first N test records (default all 2 000)")
    demo_args.add_argument("--retrains", type=int, default=3,
                           help="timed retrainings from scratch (default 3)")
    demo_args.add_argument("--seed", type=int, default=2024,
                           help="chooses the records removed (not the noise)")
    args = parser.parse_args(argv)
    if (args.workspace is None) == (args.demo is None):
        parser.error("give either WORKSPACE or --demo DIR")
    if args.demo is not None:
        try:
            paths = demo(args.demo, data=args.data, removals=args.removals,
                         publish_every=args.publish_every, train_records=args.train_records,
                         test_records=args.test_records, retrains=args.retrains,
                         seed=args.seed)
        except (ValueError, FileNotFoundError) as err:
            print(f"lethe.report: {err}", file=sys.stderr)
            return 2
        except lethe.LetheError as err:
            print(f"lethe.report: {err}", file=sys.stderr)
            return 4 if isinstance(err, lethe.RemovalRefused) else 5
        for p in paths:
            print(p)
        return 0
    try:
        ws = lethe.Workspace(args.workspace)
    except lethe.LetheError as err:
        print(f"lethe.report: {err}", file=sys.stderr)
        return 2
    with ws:
        report = ws.verify() if ws.info()["certificates"] else None
        if report is not None and not report:
            print(f"lethe.report: the ledger does not verify ({report.failed}): "
                  f"{report.message}", file=sys.stderr)
            return 6
        rows = history(ws.ledger)
    for p in draw(rows, args.out):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
