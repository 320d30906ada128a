"""bench/plot_scaling.py, the figures of make bench-scaling: drawn from CSV
files with the columns bench_scaling writes, and refused without them.

SPDX-License-Identifier: GPL-3.0-or-later
"""
import pathlib
import re
import subprocess
import sys

from test_report import valid_figure

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "plot_scaling.py"


def header():
    """The CSV header as bench/bench_scaling.c writes it."""
    src = (ROOT / "bench" / "bench_scaling.c").read_text()
    call = re.search(r'fprintf\(csv, ("sweep,.*?)\);', src, re.S).group(1)
    return "".join(re.findall(r'"([^"]*)"', call)).replace("\\n", "")


def write(path, sweep, points):
    rows = [header()]
    for n, d, rem, ret in points:
        rows.append(f"{sweep},{n},{d},100,{rem},{0.8 * rem},{1.9 * rem},3,{ret},{0.9 * ret},"
                    f"{1.2 * ret},{1.1 * ret},0,0")
    path.write_text("\n".join(rows) + "\n")


def test_the_three_figures(tmp_path):
    write(tmp_path / "scaling-n.csv", "n", [(750, 784, 0.81, 128.2), (3000, 784, 1.43, 339.5),
                                            (12000, 784, 4.24, 1268.4)])
    write(tmp_path / "scaling-d.csv", "d", [(12000, 250, 1.07, 386.6),
                                            (12000, 2000, 9.67, 8585.5)])
    out = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True,
                         text=True, check=True).stdout
    assert len(out.split()) == 6
    valid_figure(tmp_path, "time-vs-n", "n, training records")
    valid_figure(tmp_path, "time-vs-d", "d, weights")
    valid_figure(tmp_path, "removal-vs-retrain", "299×")  # 1268.4 / 4.24


def test_no_measurements_no_figures(tmp_path):
    run = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True,
                         text=True)
    assert run.returncode != 0 and "scaling-n.csv not found" in run.stderr
    (tmp_path / "scaling-n.csv").write_text(header() + "\n")
    run = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True,
                         text=True)
    assert run.returncode != 0 and "holds no measurement" in run.stderr
    assert not list(tmp_path.glob("*.png"))
