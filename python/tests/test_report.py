"""lethe.report: the ledger's figure, and the demo's figures and numbers on
real Fashion-MNIST data (a subset, for time).

SPDX-License-Identifier: GPL-3.0-or-later
"""
import json
import math
import xml.etree.ElementTree as ET

import pytest

import lethe
from lethe import report
from test_lethe import SEED, needs_fashion_mnist, problem

SMALL = ["--train-records", "1500", "--test-records", "500", "--retrains", "1"]


def valid_figure(out, name, label):
    png, svg = out / f"{name}.png", out / f"{name}.svg"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10000
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert label in svg.read_text()


def test_the_ledgers_figure(tmp_path):
    X, y, ids = problem()
    ws = lethe.Workspace.create(tmp_path / "ws")
    m = lethe.CertifiedClassifier(seed=SEED).fit(X, y, ids=ids)
    ws.save(m)
    for batch in ([1001], [1002, 1003], [1004, 1005, 1006]):
        ws.forget(m, batch)
    rows = report.history(ws.ledger)
    assert [r for r, _ in rows] == [1, 3, 6]
    assert rows[-1][1]["releases"] == 4
    ws.close()
    out = tmp_path / "fig"
    assert report.main([str(tmp_path / "ws"), "--out", str(out)]) == 0
    valid_figure(out, "privacy", "records removed (certified)")
    # a ledger that does not verify is not drawn
    cert = tmp_path / "ws" / "ledger" / "00000002.json"
    cert.write_text(cert.read_text().replace('"k": 2', '"k": 5'))
    assert report.main([str(tmp_path / "ws"), "--out", str(out)]) != 0


@needs_fashion_mnist
def test_the_demo_draws_its_three_figures_from_sane_numbers(tmp_path, capsys):
    out = tmp_path / "demo"
    assert report.main(["--demo", str(out), "--removals", "7", "--publish-every", "3"] + SMALL) == 0
    for name, label in (("privacy", "ε of all releases so far"),
                        ("accuracy", "test accuracy of the release (%)"),
                        ("removal-time", "time of one removal (ms")):
        valid_figure(out, name, label)
    res = json.loads((out / "demo.json").read_text())
    s = res["settings"]
    assert (s["n_train"], s["n_test"], s["d"], s["removals"]) == (1500, 500, 784, 7)
    rel = res["releases"]
    # the release at training, then after removals 3, 6 and the last, 7
    assert [r["removed"] for r in rel] == [0, 3, 6, 7]
    assert [r["release"] for r in rel] == [1, 2, 3, 4]
    assert res["certified"] == 7 and len(res["removal_ms"]) == 7 and len(res["release_ms"]) == 3
    assert all(0 < t < 10000 for t in res["removal_ms"] + res["release_ms"])
    assert all(t > 0 for t in res["retrain_s"])
    # better than chance, and within [0, 1], for the model and its retrain
    acc = [r["accuracy"] for r in rel] + res["retrain_accuracy"]
    assert len(res["retrain_accuracy"]) == 10 and all(0.6 < a <= 1.0 for a in acc)
    # releases of equal μ compose as √k·μ (Gaussian DP), and ε only grows
    mu = [r["mu_total"] for r in rel]
    assert all(math.isclose(m, math.sqrt(k + 1) * mu[0], rel_tol=1e-9) for k, m in enumerate(mu))
    eps = [r["epsilon_total"] for r in rel]
    assert eps[0] == pytest.approx(1.0, rel=1e-6) and all(a < b for a, b in zip(eps, eps[1:]))
    assert "removal   median" in capsys.readouterr().out


@needs_fashion_mnist
def test_the_demo_refuses_what_it_cannot_do(tmp_path, capsys):
    out = str(tmp_path / "demo")
    assert report.main(["--demo", out, "--removals", "0"] + SMALL) == 2
    assert "at least 1" in capsys.readouterr().err
    assert report.main(["--demo", out, "--removals", "1500"] + SMALL) == 2
    assert "one must remain" in capsys.readouterr().err
    assert report.main(["--demo", out, "--data", str(tmp_path)] + SMALL) == 2
    assert "Fashion-MNIST" in capsys.readouterr().err
    # 60 releases are more than the accountant covers at (1, 1e-5) and d = 784
    assert report.main(["--demo", out, "--removals", "60", "--train-records", "300",
                        "--test-records", "50", "--retrains", "1"]) == 4
    assert "--publish-every" in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()
    with pytest.raises(SystemExit):
        report.main([])  # neither a workspace nor --demo
