"""Measures of the trained models that need no gradient: the Fréchet distance between two sets
of images in pixel space, and how many digit classes a set of samples covers."""
from . import backend


def frechet_distance(a, b, eps=1e-6):
    """‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^½) between the Gaussians fitted to the rows of a and
    b (n, D) (Heusel et al., 2017, here on raw pixels). eps is added to each covariance's
    diagonal. Tr((Σa Σb)^½) is computed as Σ √λ over the eigenvalues λ of Σa^½ Σb Σa^½, which
    is symmetric, so only symmetric eigendecompositions are needed."""
    xp = backend.module_for_device('cpu')
    a, b = xp.asarray(a, dtype='float64'), xp.asarray(b, dtype='float64')
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    eye = xp.eye(a.shape[1])
    cov_a = xp.cov(a, rowvar=False) + eps * eye
    cov_b = xp.cov(b, rowvar=False) + eps * eye
    w, v = xp.linalg.eigh(cov_a)
    root_a = (v * xp.sqrt(xp.clip(w, 0, None))) @ v.T                 # Σa^½
    middle = root_a @ cov_b @ root_a
    trace_root = xp.sqrt(xp.clip(xp.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    diff = mu_a - mu_b
    return float(diff @ diff + xp.trace(cov_a) + xp.trace(cov_b) - 2 * trace_root)


class DigitClassifier:
    """A multinomial logistic regression (scikit-learn's) trained on the training digits, used
    to ask which digits a generator draws."""

    def __init__(self, split):
        try:
            from sklearn.linear_model import LogisticRegression
        except ImportError:
            raise ImportError("class coverage needs scikit-learn: pip install 'minigen[data]'")
        self.model = LogisticRegression(max_iter=2000)
        self.model.fit(split.train, split.labels_train)
        self.test_accuracy = float(self.model.score(split.test, split.labels_test))

    def coverage(self, images, threshold=0.02):
        """(classes found in at least ``threshold`` of the images, the share of each class)."""
        predicted = self.model.predict(images)
        shares = [float((predicted == c).mean()) for c in range(10)]
        return sum(share >= threshold for share in shares), shares
