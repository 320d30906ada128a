import numpy as np
import lethe

rng = np.random.default_rng(7)
X = rng.normal(size=(2000, 20))
y = (X @ rng.normal(size=20) > 0).astype(int)
ids = np.arange(100000, 102000)                    # one id per person

model = lethe.CertifiedClassifier(epsilon=1.0, delta=1e-5).fit(X, y, ids=ids)
print(f"accuracy {model.score(X, y):.3f}")

removal = model.forget([100042, 100777])           # a deletion request
release = model.publish()                          # the model without them
print(f"certified: {removal.certified}, distance {removal.distance:.2g} <= 0.03")
print(f"release {release.release}, ε of the history {release.epsilon_total:.3f}")
assert not model.has_record(100042)
