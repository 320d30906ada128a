"""Figures of a workspace's published history, from its ledger alone.

    python3 -m lethe.report WORKSPACE [--out DIR]

writes DIR/privacy.png and DIR/privacy.svg (DIR defaults to ./lethe-report):
ε of the whole published history at the model's δ, and its GDP parameter
μ_total, against the records removed so far, one point per certified release
(M3), as the signed certificates state them; for guo, the residual budget used
against removals. The ledger is verified first against the workspace's own key;
a ledger that does not verify is not drawn.

SPDX-License-Identifier: GPL-3.0-or-later
"""
import argparse
import glob
import json
import os
import sys

import lethe


def history(ledger):
    """(removed so far, certificate) for every certificate, in order."""
    removed, rows = 0, []
    for path in sorted(glob.glob(os.path.join(ledger, "[0-9]" * 8 + ".json"))):
        with open(path, "rb") as f:
            cert = json.load(f)
        removed += cert["k"]
        rows.append((removed, cert))
    return rows


def draw(rows, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out, exist_ok=True)
    m3 = [(r, c) for r, c in rows if c["mechanism"] == "M3"]
    guo = [(r, c) for r, c in rows if c["mechanism"] == "M1"]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    if m3:
        x = [0] + [r for r, _ in m3]
        first = m3[0][1]
        mu1 = first["sensitivity"] / first["sigma"]
        # the release made at training is the first: ε and μ of one release
        eps = [first["epsilon"]] + [c["epsilon_total"] for _, c in m3]
        mu = [mu1] + [c["mu_total"] for _, c in m3]
        ax.step(x, eps, where="post", marker="o", color="C0",
                label=f"ε of the published history (δ = {first['delta']:g})")
        ax.set_ylabel("ε of all releases so far")
        ax2 = ax.twinx()
        ax2.step(x, mu, where="post", marker="s", linestyle="--", color="C1",
                 label="μ_total (Gaussian DP)")
        ax2.set_ylabel("μ_total = √(Σ μᵢ²)")
        ax2.set_ylim(bottom=0)
        lines = ax.get_legend_handles_labels()
        lines2 = ax2.get_legend_handles_labels()
        ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper left", fontsize=9)
        ax.set_title(f"M3: {len(m3)} certified releases after training "
                     f"(ε = {first['epsilon']:g} each)")
    elif guo:
        x = [r for r, _ in guo]
        used = [c["budget"] - c["remaining_after"] for _, c in guo]
        ax.step(x, used, where="post", marker="o", label="residual used (owner's figure)")
        ax.axhline(guo[0][1]["budget"], color="C3", linestyle=":", label="budget ε'")
        ax.set_ylabel("residual (gradient norm)")
        ax.legend(loc="upper left", fontsize=9)
        ax.set_title("guo: Guo et al.'s idealised statement, not a proven guarantee")
    else:
        ax.text(0.5, 0.5, "no certificate yet", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_xlabel("records removed (certified)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    paths = [os.path.join(out, "privacy.png"), os.path.join(out, "privacy.svg")]
    for p in paths:
        fig.savefig(p)
    plt.close(fig)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m lethe.report",
                                     description="Figures of a workspace's published history")
    parser.add_argument("workspace")
    parser.add_argument("--out", default="lethe-report",
                        help="directory for the figures (default ./lethe-report)")
    args = parser.parse_args(argv)
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
