"""lethe — certified machine unlearning, from Python.

A thin ctypes layer over liblethe with scikit-learn's conventions:

    from lethe import CertifiedClassifier
    model = CertifiedClassifier(epsilon=1.0, delta=1e-5).fit(X, y, ids=ids)
    report = model.forget([4711])        # certified removal: a Removal
    release = model.publish()            # a fresh release of the model
    model.predict(X_test)                # with the PUBLISHED weights

`coef_` is always the published release, never the owner's secret state.
Every failure raises LetheError (with lethe's status and message); a call
that fails changes nothing. One model per thread: a model and its calls
must not be shared between threads without a lock.

The library is found through LETHE_LIB (a path); then inside this package
(lethe/liblethe.so.0, as `pip install ./python` and `make python`'s wheel
bundle it); then where `make install` put it, beside the package's
site-packages (PREFIX/lib/liblethe.so.0); then in the source tree
(build/liblethe.so, for PYTHONPATH=python); then the system's (liblethe.so.0).

SPDX-License-Identifier: GPL-3.0-or-later
"""

import ctypes
import ctypes.util
import glob
import os

import numpy as np

__all__ = [
    "CertifiedClassifier",
    "CertifiedRegressor",
    "LetheError",
    "RemovalRefused",
    "Removal",
    "Release",
    "Workspace",
    "Certificate",
    "VerifyReport",
    "verify_ledger",
    "read_idx",
]

# ─── The library ─────────────────────────────────────────────────────────────


def _find_library():
    path = os.environ.get("LETHE_LIB")
    if path:
        return path
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.path.join(here, "liblethe.so.0")]  # bundled
    if os.path.basename(os.path.dirname(here)) in ("dist-packages", "site-packages"):
        # make install: PREFIX/lib/pythonX.Y/dist-packages/lethe → PREFIX/lib
        candidates.append(os.path.join(here, "..", "..", "..", "liblethe.so.0"))
    for candidate in candidates:
        if os.path.isfile(candidate):
            return os.path.normpath(candidate)
    for candidate in sorted(glob.glob(os.path.join(here, "..", "..", "build", "liblethe.so*"))):
        return candidate
    found = ctypes.util.find_library("lethe")
    if found:
        return found
    raise ImportError("lethe: liblethe not found; build it (make) or set LETHE_LIB")


_lib = ctypes.CDLL(_find_library())

_c_size = ctypes.c_size_t
_c_double_p = ctypes.POINTER(ctypes.c_double)
_c_u64_p = ctypes.POINTER(ctypes.c_uint64)

# lethe_status values (include/lethe.h), for the exceptions
_EINVAL = 1
_EBUDGET = 10
_ECAPACITY = 19


class _FeatureMap(ctypes.Structure):
    _fields_ = [
        ("kind", ctypes.c_int),
        ("dim", _c_size),
        ("gamma", ctypes.c_double),
        ("seed", ctypes.c_ubyte * 32),
        ("identity", ctypes.c_ubyte * 32),
        ("bias", ctypes.c_double),
        ("input", ctypes.c_int),
    ]


class _TrainOptions(ctypes.Structure):
    _fields_ = [
        ("mechanism", ctypes.c_int),
        ("loss", ctypes.c_int),
        ("lambda_", ctypes.c_double),
        ("epsilon", ctypes.c_double),
        ("delta", ctypes.c_double),
        ("sigma", ctypes.c_double),
        ("budget", ctypes.c_double),
        ("tol", ctypes.c_double),
        ("max_iter", ctypes.c_uint),
        ("seed", ctypes.POINTER(ctypes.c_ubyte)),
        ("delta_max", ctypes.c_double),
        ("dp_releases", ctypes.c_int),
        ("dp_min_records", _c_size),
        ("epsilon_cap", ctypes.c_double),
        ("newton_extra", ctypes.c_uint),
        ("features", _FeatureMap),
        ("multiclass", ctypes.c_int),
        ("classes", _c_double_p),
        ("n_classes", _c_size),
    ]


class _RemovalReport(ctypes.Structure):
    _fields_ = [
        ("removed", _c_size),
        ("path", ctypes.c_int),
        ("residual", ctypes.c_double),
        ("residual_fp", ctypes.c_double),
        ("residual_bound", ctypes.c_double),
        ("budget", ctypes.c_double),
        ("certified", ctypes.c_int),
        ("distance", ctypes.c_double),
        ("steps", ctypes.c_uint),
        ("reanchors", ctypes.c_uint),
    ]


class _ReleaseReport(ctypes.Structure):
    _fields_ = [
        ("release", _c_size),
        ("sigma", ctypes.c_double),
        ("sensitivity", ctypes.c_double),
        ("mu", ctypes.c_double),
        ("mu_total", ctypes.c_double),
        ("epsilon_total", ctypes.c_double),
    ]


class _Budget(ctypes.Structure):
    _fields_ = [
        ("epsilon", ctypes.c_double),
        ("delta", ctypes.c_double),
        ("sigma", ctypes.c_double),
        ("c", ctypes.c_double),
        ("budget", ctypes.c_double),
        ("residual", ctypes.c_double),
        ("residual_fp", ctypes.c_double),
        ("train_residual", ctypes.c_double),
        ("residual_bound", ctypes.c_double),
        ("remaining", ctypes.c_double),
        ("removals", _c_size),
        ("removals_total", _c_size),
        ("refreshes", _c_size),
        ("n", _c_size),
        ("capacity_estimate", _c_size),
        ("worst_case_bound", ctypes.c_double),
        ("worst_case_count", _c_size),
        ("seeded", ctypes.c_int),
        ("lattice", ctypes.c_double),
        ("lattice_rounding", ctypes.c_double),
        ("delta_sampler", ctypes.c_double),
        ("sampler", ctypes.c_char_p),
        ("mechanism", ctypes.c_int),
        ("delta_max", ctypes.c_double),
        ("distance", ctypes.c_double),
        ("sensitivity", ctypes.c_double),
        ("mu", ctypes.c_double),
        ("releases", _c_size),
        ("mu_total", ctypes.c_double),
        ("epsilon_total", ctypes.c_double),
        ("epsilon_cap", ctypes.c_double),
        ("lambda_", ctypes.c_double),
        ("R", ctypes.c_double),
        ("loss", ctypes.c_int),
        ("releases_left", _c_size),
        ("fresh", ctypes.c_int),
        ("dp_releases", ctypes.c_int),
        ("dp_min_records", _c_size),
        ("dp_sensitivity", ctypes.c_double),
        ("capacity_guaranteed", _c_size),
        ("reanchors", _c_size),
        ("newton_steps", _c_size),
    ]


class _Difficulty(ctypes.Structure):
    _fields_ = [
        ("id", ctypes.c_uint64),
        ("influence", ctypes.c_double),
        ("dry_run", ctypes.c_int),
        ("distance", ctypes.c_double),
        ("share", ctypes.c_double),
        ("steps", ctypes.c_uint),
        ("reanchors", ctypes.c_uint),
        ("seconds", ctypes.c_double),
    ]


def _declare(name, restype, *argtypes):
    fn = getattr(_lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


_vp = ctypes.c_void_p
_st = ctypes.c_int
_strerror = _declare("lethe_strerror", ctypes.c_char_p, _st)
_struct_size = _declare("lethe_struct_size", _c_size, ctypes.c_char_p)
_ctx_create = _declare("lethe_ctx_create", _st, _vp, ctypes.POINTER(_vp))
_ctx_free = _declare("lethe_ctx_free", None, _vp)
_errmsg = _declare("lethe_ctx_errmsg", ctypes.c_char_p, _vp)
_dataset_create = _declare("lethe_dataset_create", _st, _vp, _c_size, _c_size, _c_double_p,
                           _c_size, _c_double_p, _c_u64_p, ctypes.c_int, ctypes.c_double,
                           ctypes.POINTER(_vp))
_dataset_free = _declare("lethe_dataset_free", None, _vp)
_options_init = _declare("lethe_train_options_init", None, ctypes.POINTER(_TrainOptions))
_train = _declare("lethe_model_train", _st, _vp, _vp, ctypes.POINTER(_TrainOptions),
                  ctypes.POINTER(_vp))
_model_free = _declare("lethe_model_free", None, _vp)
_remove = _declare("lethe_model_remove", _st, _vp, _c_u64_p, _c_size, ctypes.c_int,
                   ctypes.POINTER(_RemovalReport))
_check = _declare("lethe_model_check_removal", _st, _vp, _c_u64_p, _c_size, ctypes.c_int,
                  ctypes.POINTER(_RemovalReport))
_difficulty = _declare("lethe_record_difficulty", _st, _vp, _c_u64_p, _c_size, ctypes.c_int,
                       ctypes.POINTER(_Difficulty))
_hardest = _declare("lethe_model_hardest", _st, _vp, _c_size, ctypes.c_int,
                    ctypes.POINTER(_Difficulty), ctypes.POINTER(_c_size))
_publish = _declare("lethe_model_publish", _st, _vp, ctypes.POINTER(_ReleaseReport))
_budget = _declare("lethe_model_budget", _st, _vp, ctypes.POINTER(_Budget))
_weights = _declare("lethe_model_weights", _c_double_p, _vp)
_dim = _declare("lethe_model_dim", _c_size, _vp)
_input_dim = _declare("lethe_model_input_dim", _c_size, _vp)
_classes = _declare("lethe_model_classes", _c_size, _vp, ctypes.POINTER(_c_double_p))
_predict = _declare("lethe_model_predict", _st, _vp, _c_size, _c_double_p, _c_size, _c_double_p,
                    _c_double_p)
_evaluate = _declare("lethe_model_evaluate", _st, _vp, _vp, _c_double_p)
_save = _declare("lethe_model_save", _st, _vp, ctypes.c_char_p)
_save_public = _declare("lethe_model_save_public", _st, _vp, ctypes.c_char_p)
_load = _declare("lethe_model_load", _st, _vp, ctypes.c_char_p, ctypes.POINTER(_vp))
_has_id = _declare("lethe_model_has_id", ctypes.c_int, _vp, ctypes.c_uint64)
_rows = _declare("lethe_model_rows", _c_size, _vp)

for _cls, _cname in ((_TrainOptions, "lethe_train_options"), (_Budget, "lethe_budget"),
                     (_RemovalReport, "lethe_removal_report"),
                     (_ReleaseReport, "lethe_release_report"), (_FeatureMap, "lethe_feature_map"),
                     (_Difficulty, "lethe_difficulty")):
    if ctypes.sizeof(_cls) != _struct_size(_cname.encode()):
        raise ImportError(f"lethe: {_cname} has {_struct_size(_cname.encode())} bytes in the "
                          f"library, {ctypes.sizeof(_cls)} here: a library of another version?")

# ─── Errors and reports ──────────────────────────────────────────────────────


class LetheError(Exception):
    """A call into lethe failed; nothing changed. `status` is lethe's status
    code, `message` its detail."""

    def __init__(self, status, message):
        self.status = status
        self.message = message
        super().__init__(f"{_strerror(status).decode()}: {message}")


class RemovalRefused(LetheError):
    """A removal or release the certificate does not allow (over the ε cap,
    the DP floor or a capacity); nothing changed."""


def _raise(ctx, status):
    message = (_errmsg(ctx) or b"").decode("utf-8", "replace")
    cls = RemovalRefused if status in (_EBUDGET, _ECAPACITY) else LetheError
    raise cls(status, message)


class Removal:
    """What a certified removal did (the owner's figures: they stay with the
    owner and never enter a certificate)."""

    def __init__(self, rep):
        self.removed = rep.removed
        self.certified = bool(rep.certified)
        self.distance = rep.distance
        self.residual = rep.residual
        self.steps = rep.steps
        self.reanchors = rep.reanchors

    def __repr__(self):
        return (f"Removal(removed={self.removed}, certified={self.certified}, "
                f"distance={self.distance:.3g})")


class Release:
    """One publication: its number, σ, and ε of the whole published history."""

    def __init__(self, rep):
        self.release = rep.release
        self.sigma = rep.sigma
        self.mu = rep.mu
        self.mu_total = rep.mu_total
        self.epsilon_total = rep.epsilon_total

    def __repr__(self):
        return f"Release({self.release}, epsilon_total={self.epsilon_total:.4g})"


_LOSSES = {"logistic": 0, "squared": 1, "smooth-hinge": 2, "huber": 3}
_MECHANISMS = {"m3": 3, "guo": 1}
_FEATURES = {None: 0, "rff": 1, "relu": 2}
_INPUTS = {None: 0, "raw": 0, "sqrt": 1}  # lethe_feature_input
_NORMALIZE = 3  # LETHE_NORM_NORMALIZE


def _matrix(X, fitting=False):
    """X as a C-contiguous float64 array (no copy when it already is one),
    checked as scikit-learn checks its input."""
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError("lethe needs dense data: a sparse matrix was passed (use X.toarray())")
    X = np.asarray(X)
    if np.iscomplexobj(X):
        raise ValueError("Complex data not supported")
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array, got {X.ndim}D array instead. Reshape your data "
                         "either using array.reshape(-1, 1) if your data has a single feature "
                         "or array.reshape(1, -1) if it contains a single sample.")
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.shape[1] == 0:
        raise ValueError(f"0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
    if X.shape[0] == 0 or (fitting and X.shape[0] < 2):
        raise ValueError(f"Found array with {X.shape[0]} sample(s) (shape={X.shape}) while a "
                         f"minimum of {2 if fitting else 1} is required: n_samples = 1 cannot "
                         "be trained with a certified removal (one must remain).")
    if not np.all(np.isfinite(X)):
        raise ValueError("Input contains NaN or infinity.")
    return X


def _unit_rows(X):
    """X with every non-zero row scaled to norm 1, as fit scales the records
    (the certificate's R is 1)."""
    X = _matrix(X)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return np.ascontiguousarray(X / np.where(norms > 0, norms, 1.0))


# ─── Estimators ──────────────────────────────────────────────────────────────


class _Certified:
    """Common to both estimators: an L2-regularised convex model under lethe's
    M3 (default) or guo, trained to optimality, whose records can be removed
    with a certificate."""

    _classifier = False

    def __init__(self, *, mechanism="m3", loss=None, epsilon=1.0, delta=1e-5, lam=1e-4,
                 delta_max=0.03, features=None, n_features=1000, gamma=1.0, bias=0.0,
                 features_input=None, dp_releases=False, epsilon_cap=0.0, seed=None, sigma=0.0,
                 residual_budget=2.0):
        self.mechanism = mechanism
        self.loss = loss
        self.epsilon = epsilon
        self.delta = delta
        self.lam = lam
        self.delta_max = delta_max
        self.features = features
        self.n_features = n_features
        self.gamma = gamma
        self.bias = bias
        self.features_input = features_input
        self.dp_releases = dp_releases
        self.epsilon_cap = epsilon_cap
        self.seed = seed
        self.sigma = sigma
        self.residual_budget = residual_budget

    # scikit-learn's parameter protocol
    def get_params(self, deep=True):
        names = ("mechanism", "loss", "epsilon", "delta", "lam", "delta_max", "features",
                 "n_features", "gamma", "bias", "features_input", "dp_releases", "epsilon_cap",
                 "seed", "sigma", "residual_budget")
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params):
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {key!r}")
            setattr(self, key, value)
        return self

    def __del__(self):
        model = getattr(self, "_model", None)
        if model:
            _model_free(model)
        ctx = getattr(self, "_ctx", None)
        if ctx:
            _ctx_free(ctx)

    # pickling: the fitted model travels as its state file's bytes (SECRET:
    # the records and θ, as save() writes them)
    def __getstate__(self):
        state = {k: v for k, v in self.__dict__.items()
                 if k not in ("_model", "_ctx", "_seed_buf")}
        if getattr(self, "_model", None):
            import tempfile
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "state")
                self.save(path)
                with open(path, "rb") as f:
                    state["_state_bytes"] = f.read()
        return state

    def __setstate__(self, state):
        blob = state.pop("_state_bytes", None)
        self.__dict__.update(state)
        self._ctx = None
        self._model = None
        if blob is not None:
            import tempfile
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "state")
                with open(path, "wb") as f:
                    f.write(blob)
                ctx = self._context()
                model = _vp()
                status = _load(ctx, os.fsencode(path), ctypes.byref(model))
                if status != 0:
                    _raise(ctx, status)
                self._model = model

    def _context(self):
        if getattr(self, "_ctx", None) is None:
            ctx = _vp()
            status = _ctx_create(None, ctypes.byref(ctx))
            if status != 0:
                raise LetheError(status, "no context")
            self._ctx = ctx
        return self._ctx

    def _options(self, n_labels):
        o = _TrainOptions()
        _options_init(ctypes.byref(o))
        if self.mechanism not in _MECHANISMS:
            raise ValueError(f"mechanism must be one of {sorted(_MECHANISMS)}, not "
                             f"{self.mechanism!r}")
        loss = self.loss or ("logistic" if self._classifier else "squared")
        if loss not in _LOSSES:
            raise ValueError(f"loss must be one of {sorted(_LOSSES)}, not {loss!r}")
        if self.features not in _FEATURES:
            raise ValueError(f"features must be None, 'rff' or 'relu', not {self.features!r}")
        if self.features_input not in _INPUTS:
            raise ValueError(f"features_input must be None, 'raw' or 'sqrt', not "
                             f"{self.features_input!r}")
        o.mechanism = _MECHANISMS[self.mechanism]
        o.loss = _LOSSES[loss]
        o.lambda_ = self.lam
        o.epsilon = self.epsilon
        o.delta = self.delta
        o.delta_max = self.delta_max
        o.dp_releases = int(bool(self.dp_releases))
        o.epsilon_cap = self.epsilon_cap
        o.sigma = self.sigma if self.mechanism == "guo" else 0.0
        o.budget = self.residual_budget
        o.features.kind = _FEATURES[self.features]
        o.features.dim = self.n_features if self.features else 0
        o.features.gamma = self.gamma
        o.features.bias = self.bias
        o.features.input = _INPUTS[self.features_input]
        o.multiclass = int(n_labels > 2)
        self._seed_buf = None
        if self.seed is not None:
            seed = bytes(self.seed)
            if len(seed) != 32:
                raise ValueError("seed must be 32 bytes (reproducible test noise, not private)")
            self._seed_buf = (ctypes.c_ubyte * 32)(*seed)
            o.seed = self._seed_buf
        return o

    def fit(self, X, y, ids=None):
        """Train on the rows of X (each scaled to norm 1 first, as predict does)
        with labels y and, if
        given, distinct non-negative integer ids (default 0 … n−1): the ids
        name records for forget()."""
        X = _matrix(X, fitting=True)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.shape != (X.shape[0],):
            raise ValueError(f"y has shape {y.shape}, X has {X.shape[0]} rows")
        if not self._classifier and not np.all(np.isfinite(y.astype(np.float64))):
            raise ValueError("Input y contains NaN or infinity.")
        labels = np.unique(y)
        if self._classifier:
            if len(labels) < 2:
                raise ValueError("a classifier needs two or more classes")
            self.classes_ = labels
            if len(labels) == 2:  # the second class is +1
                yy = np.where(y == labels[1], 1.0, -1.0)
            else:
                yy = y.astype(np.float64)
        else:
            yy = y.astype(np.float64)
        yy = np.ascontiguousarray(yy, dtype=np.float64)
        ids_arr = None
        if ids is not None:
            ids_arr = np.ascontiguousarray(ids, dtype=np.uint64)
            if ids_arr.shape != (X.shape[0],):
                raise ValueError("ids must give one id per row")
        ctx = self._context()
        data = _vp()
        status = _dataset_create(ctx, X.shape[0], X.shape[1],
                                 X.ctypes.data_as(_c_double_p), X.shape[1],
                                 yy.ctypes.data_as(_c_double_p),
                                 ids_arr.ctypes.data_as(_c_u64_p) if ids_arr is not None else None,
                                 _NORMALIZE, 1.0, ctypes.byref(data))
        if status != 0:
            _raise(ctx, status)
        try:
            opts = self._options(len(labels) if self._classifier else 0)
            model = _vp()
            status = _train(ctx, data, ctypes.byref(opts), ctypes.byref(model))
            if status != 0:
                _raise(ctx, status)
        finally:
            _dataset_free(data)
        if getattr(self, "_model", None):
            _model_free(self._model)
        self._model = model
        self.n_features_in_ = X.shape[1]
        return self

    def _need_model(self):
        if not getattr(self, "_model", None):
            raise LetheError(_EINVAL, f"this {type(self).__name__} is not fitted yet: call fit")
        return self._model

    @property
    def coef_(self):
        """The PUBLISHED weights (the last release), shaped (classes or 1,
        features); never the owner's noise-free state."""
        m = self._need_model()
        d = _dim(m)
        w = np.ctypeslib.as_array(_weights(m), shape=(d,)).copy()
        k = max(1, _classes(m, None))
        return w.reshape(k, d // k)

    def _raw(self, X):
        m = self._need_model()
        X = _unit_rows(X)
        label = np.empty(X.shape[0])
        prob = np.empty(X.shape[0])
        status = _predict(m, X.shape[0], X.ctypes.data_as(_c_double_p), X.shape[1],
                          label.ctypes.data_as(_c_double_p), prob.ctypes.data_as(_c_double_p))
        if status != 0:
            _raise(self._ctx, status)
        return label, prob

    def forget(self, ids, dry_run=False):
        """Remove the records named by ids as one batch, certified (M3: the
        next publish() releases the model without them). Raises LetheError
        for an unknown or already removed id and changes nothing."""
        m = self._need_model()
        arr = np.ascontiguousarray(np.atleast_1d(ids), dtype=np.uint64)
        rep = _RemovalReport()
        fn = _check if dry_run else _remove
        status = fn(m, arr.ctypes.data_as(_c_u64_p), arr.size, 0, ctypes.byref(rep))
        if status != 0:
            _raise(self._ctx, status)
        return Removal(rep)

    def difficulty(self, ids=None, top=None, dry_run=True):
        """How hard records are to forget, before forgetting them
        (proofs/difficulty.md): for the records named by ids, or for the top
        records of largest influence (hardest first), a dict per record with
        id, influence (the length of the Newton step its removal alone takes,
        weights L2: a ranking, not a bound) and, with dry_run, the figures of
        its removal alone, computed and not made: distance (M3's certified
        bound), share (of Δ_max, or guo's ε'), steps, reanchors and seconds.
        Changes nothing."""
        m = self._need_model()
        if (ids is None) == (top is None):
            raise ValueError("give ids or top, one of the two")
        if ids is not None:
            arr = np.ascontiguousarray(np.atleast_1d(ids), dtype=np.uint64)
            out = (_Difficulty * max(arr.size, 1))()
            status = _difficulty(m, arr.ctypes.data_as(_c_u64_p), arr.size, int(bool(dry_run)),
                                 out)
            count = arr.size
        else:
            if int(top) < 1:
                raise ValueError(f"top must be ≥ 1, not {top!r}")
            out = (_Difficulty * int(top))()
            n = _c_size(0)
            status = _hardest(m, int(top), int(bool(dry_run)), out, ctypes.byref(n))
            count = n.value
        if status != 0:
            _raise(self._ctx, status)
        rows = []
        for r in out[:count]:
            row = {"id": int(r.id), "influence": r.influence}
            if r.dry_run:
                row.update(distance=r.distance, share=r.share, steps=r.steps,
                           reanchors=r.reanchors, seconds=r.seconds)
            rows.append(row)
        return rows

    def publish(self):
        """M3: a fresh release of the model (new noise); its weights become
        coef_. Raises RemovalRefused over the ε cap."""
        rep = _ReleaseReport()
        status = _publish(self._need_model(), ctypes.byref(rep))
        if status != 0:
            _raise(self._ctx, status)
        return Release(rep)

    def budget(self):
        """The accountant: a dict of lethe_budget's fields."""
        b = _Budget()
        status = _budget(self._need_model(), ctypes.byref(b))
        if status != 0:
            _raise(self._ctx, status)
        out = {name: getattr(b, name) for name, _ in _Budget._fields_}
        out["sampler"] = (b.sampler or b"").decode()
        out["lambda"] = out.pop("lambda_")
        return out

    def capacity(self):
        """(guaranteed, estimated) further single removals (M3: the
        guaranteed one holds for any records in any order)."""
        b = self.budget()
        return b["capacity_guaranteed"], b["capacity_estimate"]

    def has_record(self, record_id):
        return bool(_has_id(self._need_model(), int(record_id)))

    def save(self, path):
        """The owner's state (SECRET: it holds the records and θ)."""
        status = _save(self._need_model(), os.fsencode(path))
        if status != 0:
            _raise(self._ctx, status)

    def save_public(self, path):
        """The publishable model file: the release and its parameters."""
        status = _save_public(self._need_model(), os.fsencode(path))
        if status != 0:
            _raise(self._ctx, status)

    @classmethod
    def load(cls, path, **params):
        est = cls(**params)
        ctx = est._context()
        model = _vp()
        status = _load(ctx, os.fsencode(path), ctypes.byref(model))
        if status != 0:
            _raise(ctx, status)
        est._model = model
        est.n_features_in_ = _input_dim(model)
        if est._classifier:
            c = _c_double_p()
            k = _classes(model, ctypes.byref(c))
            # a binary model keeps its labels as −1/+1 only
            est.classes_ = (np.ctypeslib.as_array(c, shape=(k,)).copy() if k > 1
                            else np.array([-1, 1]))
        return est


class CertifiedClassifier(_Certified):
    """A certified classifier: logistic (default) or smooth-hinge loss, binary
    or one-vs-rest over three or more classes (one model, one release)."""

    _classifier = True

    def decision_function(self, X):
        self._need_model()
        X = _unit_rows(X)
        w = self.coef_
        if self.features or self.bias or _INPUTS[self.features_input]:
            # the scores of a mapped model come from predict
            raise NotImplementedError("decision_function with a feature map: use predict_proba")
        scores = X @ w.T
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X):
        label, _ = self._raw(X)
        if len(self.classes_) == 2:
            return np.where(label > 0, self.classes_[1], self.classes_[0])
        return label.astype(self.classes_.dtype)

    def predict_proba(self, X):
        """Binary logistic: P(class) per column of classes_. One-vs-rest:
        the predicted class's normalised head score in its column (a
        heuristic, not a calibrated probability; 0 elsewhere)."""
        label, prob = self._raw(X)
        if len(self.classes_) == 2:
            return np.column_stack([1.0 - prob, prob])
        out = np.zeros((len(label), len(self.classes_)))
        cols = np.searchsorted(self.classes_, label)
        out[np.arange(len(label)), cols] = prob
        return out

    def score(self, X, y):
        return float(np.mean(self.predict(X) == np.asarray(y)))


class CertifiedRegressor(_Certified):
    """A certified regressor: squared (ridge, default) or Huber loss."""

    def predict(self, X):
        label, _ = self._raw(X)
        return label

    def score(self, X, y):
        """R², as scikit-learn's regressors."""
        y = np.asarray(y, dtype=np.float64)
        r = y - self.predict(X)
        return float(1.0 - (r @ r) / ((y - y.mean()) @ (y - y.mean())))


# ─── Data files ──────────────────────────────────────────────────────────────

class _ReadOptions(ctypes.Structure):
    _fields_ = [
        ("header", ctypes.c_int),
        ("label_col", ctypes.c_long),
        ("id_col", ctypes.c_long),
        ("pos_class", ctypes.c_long),
        ("neg_class", ctypes.c_long),
        ("scale", ctypes.c_double),
        ("policy", ctypes.c_int),
        ("R", ctypes.c_double),
        ("dim", _c_size),
    ]


_read_options_init = _declare("lethe_read_options_init", None, ctypes.c_void_p)
_read_idx = _declare("lethe_dataset_read_idx", _st, _vp, ctypes.c_char_p, ctypes.c_char_p,
                     ctypes.POINTER(_ReadOptions), ctypes.POINTER(_vp))
_dataset_rows = _declare("lethe_dataset_rows", _c_size, _vp)
_dataset_cols = _declare("lethe_dataset_cols", _c_size, _vp)
_dataset_x = _declare("lethe_dataset_x", _c_double_p, _vp)
_dataset_y = _declare("lethe_dataset_y", _c_double_p, _vp)
_dataset_ids = _declare("lethe_dataset_ids", _c_u64_p, _vp)


def _read_options():
    """lethe_read_options as the library initialises it. lethe_struct_size
    does not know this struct, so its layout is checked here: the library
    initialises a buffer longer than ours, whose tail must stay as it was,
    and its documented defaults must land in our fields."""
    size = ctypes.sizeof(_ReadOptions)
    buf = (ctypes.c_ubyte * (size + 64))(*([0xA5] * (size + 64)))
    _read_options_init(buf)
    o = _ReadOptions.from_buffer_copy(buf)
    defaults = (o.header, o.label_col, o.id_col, o.pos_class, o.neg_class, o.scale, o.policy,
                o.R, o.dim)
    if bytes(buf[size:]) != b"\xa5" * 64 or defaults != (-1, -1, -1, -1, -1, 0.0, 0, 1.0, 0):
        raise LetheError(_EINVAL, "lethe_read_options differs in the library: a library of "
                                  "another version?")
    return o


def read_idx(images, labels, classes=None):
    """Read an IDX image file and its label file (MNIST, Fashion-MNIST; raw
    or gzip-compressed) with lethe's reader, the one the tool uses.

    Parameters
    ----------
    images, labels : path-like
        The two IDX files (for example train-images-idx3-ubyte.gz and
        train-labels-idx1-ubyte.gz).
    classes : None or (int, int)
        None: every record. Two class numbers: only the records of those two
        classes (read without holding the others in memory).

    Returns
    -------
    X : ndarray (n, d), float64
        The pixels scaled by 1/255 (into [0, 1]), one row per image.
    y : ndarray (n,), int64
        Each record's class number.
    ids : ndarray (n,), uint64
        Each record's 0-based number in the file (the tool's ids), stable
        under the class filter.

    Raises LetheError (EIO: a file cannot be read; EFORMAT: a bad magic
    number, sizes or truncation, with the file and the reason; EEMPTY: no
    record of those classes) and ValueError for a classes argument that is
    not two distinct non-negative integers.
    """
    opts = _read_options()
    if classes is not None:
        pos, neg = (int(c) for c in classes)
        if pos < 0 or neg < 0 or pos == neg:
            raise ValueError(f"classes must be two distinct class numbers, not {classes!r}")
        opts.pos_class, opts.neg_class = pos, neg
    ctx = _vp()
    status = _ctx_create(None, ctypes.byref(ctx))
    if status != 0:
        raise LetheError(status, "no context")
    data = _vp()
    try:
        status = _read_idx(ctx, os.fsencode(images), os.fsencode(labels), ctypes.byref(opts),
                           ctypes.byref(data))
        if status != 0:
            _raise(ctx, status)
        n, d = _dataset_rows(data), _dataset_cols(data)
        X = np.ctypeslib.as_array(_dataset_x(data), shape=(n, d)).copy()
        y = np.ctypeslib.as_array(_dataset_y(data), shape=(n,)).copy()
        ids = np.ctypeslib.as_array(_dataset_ids(data), shape=(n,)).copy()
    finally:
        _dataset_free(data)
        _ctx_free(ctx)
    if classes is not None:  # the reader maps them to ±1
        y = np.where(y > 0, pos, neg)
    return X, y.astype(np.int64), ids


# ─── Workspaces, certificates, the ledger ────────────────────────────────────

class _VerifyReport(ctypes.Structure):
    _fields_ = [
        ("checked", _c_size),
        ("last_seq", ctypes.c_uint64),
        ("failed", ctypes.c_int),
        ("failed_seq", ctypes.c_uint64),
        ("pinned", ctypes.c_int),
        ("model_checked", ctypes.c_int),
        ("seeded", ctypes.c_int),
        ("mechanism", ctypes.c_int),
        ("idealised", ctypes.c_int),
        ("signer", ctypes.c_char * 65),
        ("model_after", ctypes.c_char * 65),
    ]


class _WorkspaceInfo(ctypes.Structure):
    _fields_ = [
        ("mechanism", ctypes.c_int),
        ("generation", ctypes.c_uint64),
        ("certificates", ctypes.c_uint64),
        ("encrypted", ctypes.c_int),
        ("recovered", _c_size),
    ]


_cert_verify = _declare("lethe_cert_verify", _st, _vp, ctypes.c_char_p, ctypes.c_char_p,
                        ctypes.c_char_p, ctypes.POINTER(_VerifyReport))
_check_name = _declare("lethe_cert_check_name", ctypes.c_char_p, ctypes.c_int)
_ws_init = _declare("lethe_workspace_init", _st, _vp, ctypes.c_char_p, ctypes.c_char_p)
_ws_open = _declare("lethe_workspace_open", _st, _vp, ctypes.c_char_p, ctypes.c_char_p,
                    ctypes.POINTER(_vp))
_ws_close = _declare("lethe_workspace_close", None, _vp)
_ws_status = _declare("lethe_workspace_status", _st, _vp, ctypes.POINTER(_WorkspaceInfo))
_ws_path = _declare("lethe_workspace_path", ctypes.c_char_p, _vp, ctypes.c_int)
_ws_load = _declare("lethe_workspace_load_model", _st, _vp, ctypes.POINTER(_vp))
_ws_save = _declare("lethe_workspace_save_model", _st, _vp, _vp, _c_u64_p, _c_size,
                    ctypes.POINTER(_Budget))
_unpublished = _declare("lethe_model_unpublished", _c_u64_p, _vp, ctypes.POINTER(_c_size))

for _cls, _cname in ((_VerifyReport, "lethe_verify_report"),
                     (_WorkspaceInfo, "lethe_workspace_info")):
    if ctypes.sizeof(_cls) != _struct_size(_cname.encode()):
        raise ImportError(f"lethe: {_cname} has {_struct_size(_cname.encode())} bytes in the "
                          f"library, {ctypes.sizeof(_cls)} here: a library of another version?")


class VerifyReport:
    """What lethe_cert_verify found: `ok`, the certificates `checked`, the
    `failed` check's name and `message` when not ok, the `signer`, and
    whether any certificate is guo's `idealised` statement or `seeded`."""

    def __init__(self, status, rep, message):
        self.ok = status == 0
        self.checked = rep.checked
        self.last_seq = rep.last_seq
        self.failed = _check_name(rep.failed).decode()
        self.failed_seq = rep.failed_seq
        self.signer = rep.signer.decode()
        self.model_checked = bool(rep.model_checked)
        self.idealised = bool(rep.idealised)
        self.seeded = bool(rep.seeded)
        self.message = message

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return (f"VerifyReport(ok={self.ok}, checked={self.checked}, failed={self.failed!r}, "
                f"signer={self.signer[:16]}…)")


def _verify(path, public_key=None, model=None):
    ctx = _vp()
    status = _ctx_create(None, ctypes.byref(ctx))
    if status != 0:
        raise LetheError(status, "no context")
    try:
        rep = _VerifyReport()
        status = _cert_verify(ctx, os.fsencode(path),
                              os.fsencode(public_key) if public_key else None,
                              os.fsencode(model) if model else None, ctypes.byref(rep))
        message = (_errmsg(ctx) or b"").decode("utf-8", "replace")
        if status not in (0, 21):  # 21: LETHE_EVERIFY, a check failed (reported)
            raise LetheError(status, message)
        return VerifyReport(status, rep, message)
    finally:
        _ctx_free(ctx)


def verify_ledger(ledger, public_key=None, model=None):
    """Verify a ledger directory (or one certificate file): syntax, signer
    (pinned to public_key if given), signatures, the numbers recomputed, the
    chain, and the public model file's hash if given. Returns a
    VerifyReport (falsy when a check failed)."""
    return _verify(ledger, public_key, model)


class Certificate:
    """One signed deletion certificate of a ledger (its JSON fields as
    attributes: seq, mechanism, k, ids (keyed hashes), epsilon, delta,
    releases, epsilon_total, features, classes, …)."""

    def __init__(self, path):
        import json
        self.path = os.fspath(path)
        with open(self.path, "rb") as f:
            self._bytes = f.read()
        self.fields = json.loads(self._bytes)
        for key, value in self.fields.items():
            setattr(self, key, value)

    def to_json(self):
        return self._bytes.decode()

    def verify(self, public_key=None):
        return _verify(self.path, public_key)

    def __repr__(self):
        return f"Certificate(seq={self.seq}, mechanism={self.mechanism!r}, k={self.k})"


class Workspace:
    """A crash-safe directory that keeps one model, its public file, the
    owner's signing keys and the ledger of signed certificates (lethe's
    workspace). Workspace.create(path) makes one; Workspace(path) opens it."""

    def __init__(self, path, key_file=None):
        self._ctx = _vp()
        status = _ctx_create(None, ctypes.byref(self._ctx))
        if status != 0:
            raise LetheError(status, "no context")
        self._ws = _vp()
        status = _ws_open(self._ctx, os.fsencode(path),
                          os.fsencode(key_file) if key_file else None, ctypes.byref(self._ws))
        if status != 0:
            _raise(self._ctx, status)
        self.path = os.fspath(path)

    @classmethod
    def create(cls, path, key_file=None):
        ctx = _vp()
        status = _ctx_create(None, ctypes.byref(ctx))
        if status != 0:
            raise LetheError(status, "no context")
        try:
            status = _ws_init(ctx, os.fsencode(path), os.fsencode(key_file) if key_file else None)
            if status != 0:
                _raise(ctx, status)
        finally:
            _ctx_free(ctx)
        return cls(path, key_file)

    def close(self):
        if getattr(self, "_ws", None):
            _ws_close(self._ws)
            self._ws = None
        if getattr(self, "_ctx", None):
            _ctx_free(self._ctx)
            self._ctx = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _file(self, which):
        p = _ws_path(self._ws, which)
        return p.decode() if p else None

    @property
    def ledger(self):
        return self._file(2)

    @property
    def public_key(self):
        return self._file(3)

    @property
    def public_model(self):
        return self._file(1)

    def info(self):
        i = _WorkspaceInfo()
        _ws_status(self._ws, ctypes.byref(i))
        return {"mechanism": i.mechanism, "generation": i.generation,
                "certificates": i.certificates, "encrypted": bool(i.encrypted)}

    def save(self, estimator):
        """The trained model's first commit (no certificate)."""
        status = _ws_save(self._ws, estimator._need_model(), None, 0, None)
        if status != 0:
            _raise(self._ctx, status)

    def forget(self, estimator, ids):
        """Remove ids from the workspace's model (estimator, as load() or
        save() gave it), publish the model without them, and commit both with
        a signed certificate; returns the Certificate. A refusal changes
        neither the model in the file nor the ledger."""
        m = estimator._need_model()
        before = _Budget()
        status = _budget(m, ctypes.byref(before))
        if status != 0:
            _raise(estimator._ctx, status)
        estimator.forget(ids)
        # the certificate names every id removed since the last release
        k = _c_size(0)
        p = _unpublished(m, ctypes.byref(k))
        named = np.ctypeslib.as_array(p, shape=(k.value,)).copy() if k.value else \
            np.zeros(0, dtype=np.uint64)
        estimator.publish()
        status = _ws_save(self._ws, m, named.ctypes.data_as(_c_u64_p), named.size,
                          ctypes.byref(before))
        if status != 0:
            _raise(self._ctx, status)
        return self.last_certificate()

    def last_certificate(self):
        n = self.info()["certificates"]
        return Certificate(os.path.join(self.ledger, f"{n:08d}.json")) if n else None

    def load(self, cls=None):
        """The workspace's model, as an estimator of cls (CertifiedClassifier
        by default) of its own (the workspace may be closed afterwards)."""
        if self.info()["encrypted"]:
            raise LetheError(22, "an encrypted workspace's model: load it with the key "
                                 "through the tool for now")
        return (cls or CertifiedClassifier).load(self._file(0))

    def verify(self):
        """The ledger against the workspace's own key and public model."""
        return _verify(self.ledger, self.public_key, self.public_model)
