"""The scaling figures of `make bench`, from bench_scaling's CSV files.

    python3 bench/plot_scaling.py DIR

reads DIR/scaling-n.csv and DIR/scaling-d.csv (bench_scaling n|d … OUT.csv)
and writes, in PNG and SVG,
  DIR/time-vs-n           M3's removal time against n (d = 784 pixels);
  DIR/time-vs-d           M3's removal time against d (random Fourier
                          features, n = 12 000);
  DIR/removal-vs-retrain  removal against retraining from scratch, both
                          axes, on a log scale, with their ratio.
Every time is a median of the same run (removals: the band from the 10th to
the 90th percentile; retraining: bars from the least to the most).

SPDX-License-Identifier: GPL-3.0-or-later
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after the back end)

plt.rcParams.update({"font.size": 10, "axes.titlesize": 11, "legend.fontsize": 9,
                     "svg.fonttype": "none"})

TASK = "Fashion-MNIST coat vs pullover, M3 (λ = 1e-4, Δ_max = 0.03)"
AXES = {"n": ("n, training records (d = 784 pixels)", "first n records, d = 784"),
        "d": ("d, weights (random Fourier features, n = 12 000)", "n = 12 000, RFF of dimension d")}


def read(path):
    """The rows of one CSV file, numbers as floats, sorted by n and d."""
    if not os.path.isfile(path):
        raise SystemExit(f"plot_scaling: {path} not found: run bench_scaling first "
                         "(make bench-scaling)")
    with open(path, newline="", encoding="utf-8") as f:
        rows = [{k: (v if k == "sweep" else float(v)) for k, v in r.items()}
                for r in csv.DictReader(f)]
    if not rows:
        raise SystemExit(f"plot_scaling: {path} holds no measurement")
    return sorted(rows, key=lambda r: (r["n"], r["d"]))


def column(rows, key):
    return [r[key] for r in rows]


def save(fig, out, name):
    fig.tight_layout()
    for ext in ("png", "svg"):
        path = os.path.join(out, f"{name}.{ext}")
        fig.savefig(path, dpi=120)
        print(path)
    plt.close(fig)


def removal_time(rows, axis, out):
    """Removal time against n or d, linear axes from 0."""
    x = column(rows, axis)
    fig, ax = plt.subplots(figsize=(7, 4.3))
    ax.fill_between(x, column(rows, "removal_p10_ms"), column(rows, "removal_p90_ms"),
                    color="C0", alpha=0.2, lw=0,
                    label=f"10th–90th percentile of {rows[0]['removals']:.0f} removals")
    ax.plot(x, column(rows, "removal_median_ms"), marker="o", color="C0",
            label="median removal (one record, certified)")
    last = None
    for xi, yi in zip(x, column(rows, "removal_median_ms")):
        if last is not None and xi - last < 0.08 * max(x):
            continue  # too close to the last label to be read beside it
        last = xi
        ax.annotate(f"{yi:.2f} ms", (xi, yi), textcoords="offset points", xytext=(-6, 5),
                    ha="right", va="bottom", fontsize=8)
    ax.set_xlim(0, 1.05 * max(x))
    ax.set_ylim(0, 1.1 * max(column(rows, "removal_p90_ms")))
    ax.set_xlabel(AXES[axis][0])
    ax.set_ylabel("time of one removal (ms, wall clock)")
    ax.set_title(f"Certified removal time against {axis}\n{TASK}")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    save(fig, out, f"time-vs-{axis}")


def against_retraining(sweeps, out):
    """Removal and retraining against n and against d, log time axis."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
    for ax, (axis, rows) in zip(axes, sweeps):
        x = column(rows, axis)
        rem, ret = column(rows, "removal_median_ms"), column(rows, "retrain_median_ms")
        err = [[m - lo for m, lo in zip(ret, column(rows, "retrain_min_ms"))],
               [hi - m for m, hi in zip(ret, column(rows, "retrain_max_ms"))]]
        ax.errorbar(x, ret, yerr=err, marker="s", color="C3", capsize=3,
                    label=f"retraining from scratch (median of {rows[0]['retrains']:.0f})")
        ax.plot(x, rem, marker="o", color="C0", label="lethe's removal (median)")
        for xi, r, t in zip(x, rem, ret):
            ax.annotate(f"{t / r:.0f}×", (xi, (r * t) ** 0.5), ha="center", va="center",
                        fontsize=9, color="0.25")
        ax.set_xscale("log", base=2)
        ax.margins(x=0.08)
        ax.set_xticks(x, [f"{v:.0f}" for v in x])
        ax.minorticks_off()
        ax.set_yscale("log")
        ax.set_xlabel(AXES[axis][0])
        ax.set_title(f"against {axis} ({AXES[axis][1]})")
        ax.grid(alpha=0.3, which="major")
        ax.legend(loc="upper left")
    axes[0].set_ylabel("time (ms, wall clock; log scale)")
    lo = min(min(column(r, "removal_p10_ms")) for _, r in sweeps)
    hi = max(max(column(r, "retrain_max_ms")) for _, r in sweeps)
    axes[0].set_ylim(lo / 2, hi * 8)  # room for the legends above the bars
    fig.suptitle(f"Removal against retraining from scratch (ratio between the lines)\n{TASK}",
                 fontsize=11)
    save(fig, out, "removal-vs-retrain")


def main(argv):
    if len(argv) != 2:
        raise SystemExit("usage: python3 bench/plot_scaling.py DIR  (DIR holds scaling-n.csv "
                         "and scaling-d.csv)")
    out = argv[1]
    sweeps = [(axis, read(os.path.join(out, f"scaling-{axis}.csv"))) for axis in ("n", "d")]
    for axis, rows in sweeps:
        removal_time(rows, axis, out)
    against_retraining(sweeps, out)


if __name__ == "__main__":
    main(sys.argv)
