"""scikit-learn on the data of bench_multiclass: all ten Fashion-MNIST
classes, 60 000 training and 10 000 test images, rows scaled to unit norm,
at the regularisation equivalent to lethe's λ = 1e-4 per record (lethe
minimises Σℓ + (λn/2)‖w‖², scikit-learn C·Σℓ + ½‖w‖², so C = 1/(λn)).

Multinomial logistic regression (the reference for the noise-free accuracy)
and one-vs-rest logistic regression (lethe's model), without an intercept
as lethe's (with --bias lethe's would be regularised; scikit-learn's is not),
each trained three times; the median training time and the test accuracy
are printed as a Markdown table.

    LAMBDA=1e-4 /usr/bin/python3 bench/sklearn_multiclass.py [DATA_DIR]

SPDX-License-Identifier: GPL-3.0-or-later
"""
import gzip
import os
import statistics
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory, split):
    x = idx(f"{directory}/{split}-images-idx3-ubyte.gz").reshape(-1, 784) / 255.0
    y = idx(f"{directory}/{split}-labels-idx1-ubyte.gz").astype(int)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0), y


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    x, y = load(directory, "train")
    xt, yt = load(directory, "t10k")
    lam = float(os.environ.get("LAMBDA", "1e-4"))
    c = 1.0 / (lam * len(y))
    models = {
        "scikit-learn multinomial (lbfgs)": lambda: LogisticRegression(
            C=c, multi_class="multinomial", solver="lbfgs", tol=1e-8, max_iter=10000,
            fit_intercept=False),
        "scikit-learn one-vs-rest (lbfgs)": lambda: OneVsRestClassifier(LogisticRegression(
            C=c, solver="lbfgs", tol=1e-8, max_iter=10000, fit_intercept=False)),
    }
    print(f"scikit-learn, 10 classes, n = {len(y)} / {len(yt)}, C = 1/(λn) = {c:.4g}\n")
    print("| model | train (s, median of 3) | test accuracy |")
    print("|---|---|---|")
    for name, make in models.items():
        times, acc = [], None
        for _ in range(3):
            model = make()
            start = time.perf_counter()
            model.fit(x, y)
            times.append(time.perf_counter() - start)
            acc = float((model.predict(xt) == yt).mean())
        print(f"| {name} | {statistics.median(times):.1f} | {100 * acc:.2f} % |", flush=True)


if __name__ == "__main__":
    main()
