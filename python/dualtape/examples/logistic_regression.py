"""Logistic regression on the breast cancer data set shipped with scikit-learn.

569 tumours with 30 features each, labelled malignant or benign. The features are
standardized with the mean and deviation of a training split of 80 % (seeded); the
rest is the test split. With labels s_i ∈ {−1, +1}, features a_i and the weights
w = (bias, 30 coefficients), the model minimizes the mean cross-entropy with a small
ridge term,

    f(w) = (1/n) Σ_i log(1 + exp(−s_i a_iᵀw)) + (α/2) ‖w‖²,   α = 1e-3,

written as a sum of n elements (the ridge term split evenly over them), so SGD and
Adam can draw mini-batches of 32 examples. Newton uses the exact Hessian
(1/n) Σ σ_i (1 − σ_i) a_i a_iᵀ + α I. The example prints the final training loss
and the test accuracy of each method and writes ``logistic_regression.png`` with
loss and accuracy curves.

Needs scikit-learn for the data (``pip install scikit-learn``); without it the
example prints a message and returns None.

Run: ``python -m dualtape.examples.logistic_regression [-o DIR]``
"""

from __future__ import annotations


import numpy as np
from scipy.special import expit

from dualtape.optimize import Problem, run
from dualtape.examples._output import make_parser, new_figure, output_path, write_plot

RIDGE = 1e-3
BATCH_SIZE = 32
EPOCHS = 30


def load_data(seed=0):
    """Return standardized (A_train, s_train, A_test, s_test); A has a leading column of ones."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    features, labels = data.data, np.where(data.target == 1, 1.0, -1.0)
    order = np.random.default_rng(seed).permutation(labels.size)
    split = int(0.8 * labels.size)
    train, test = order[:split], order[split:]

    mean = features[train].mean(axis=0)
    deviation = features[train].std(axis=0)

    def standardize(rows):
        scaled = (features[rows] - mean) / deviation
        return np.column_stack([np.ones(len(rows)), scaled])

    return standardize(train), labels[train], standardize(test), labels[test]


def cross_entropy_sum(A, s):
    """Return fun(w, indices) -> (sum of the listed elements of f, gradient)."""
    n = s.size

    def fun(w, indices):
        margins = s[indices] * (A[indices] @ w)
        losses = np.logaddexp(0.0, -margins)
        weights = -s[indices] * expit(-margins)
        value = (float(losses.sum()) + 0.5 * RIDGE * len(indices) * float(w @ w)) / n
        gradient = (A[indices].T @ weights + RIDGE * len(indices) * w) / n
        return value, gradient

    return fun


def cross_entropy_hessian(A, s):
    n = s.size

    def hess(w):
        p = expit(A @ w)
        return (A.T * (p * (1.0 - p))) @ A / n + RIDGE * np.eye(A.shape[1])

    return hess


def accuracy(w, A, s):
    return float(np.mean(np.sign(A @ w) == s))


def train(method, problem, options, A_test, s_test, steps_per_point):
    """Run one method; return (result, loss curve, test accuracy curve)."""
    accuracies = [accuracy(problem.x0, A_test, s_test)]

    def record(state):
        if state["nit"] > 0 and state["nit"] % steps_per_point == 0:
            accuracies.append(accuracy(state["x"], A_test, s_test))

    result = run(method, problem, options=options, callback=record)
    losses = result.history.get("epoch_fun", result.history["fun"])
    return result, np.array(losses), np.array(accuracies)


def plot(curves):
    figure = new_figure((11, 4.5))
    loss_axes = figure.add_subplot(1, 2, 1)
    accuracy_axes = figure.add_subplot(1, 2, 2)
    for label, (losses, accuracies) in curves.items():
        loss_axes.semilogy(losses, ".-", label=label)
        accuracy_axes.plot(accuracies, ".-", label=label)
    loss_axes.set_xlabel("epoch (SGD, Adam) or iteration (Newton)")
    loss_axes.set_ylabel("training loss f(w)")
    loss_axes.set_title("Loss")
    loss_axes.legend()
    accuracy_axes.set_xlabel("epoch (SGD, Adam) or iteration (Newton)")
    accuracy_axes.set_ylabel("test accuracy")
    accuracy_axes.set_ylim(0.0, 1.02)
    accuracy_axes.set_title("Accuracy on the test split")
    accuracy_axes.legend()
    figure.tight_layout()
    return figure


def main(argv=None):
    """Run the example; return {method: (training loss, test accuracy)}, or None without sklearn."""
    parser = make_parser("logistic_regression", __doc__, "logistic_regression.png")
    args = parser.parse_args(argv)

    try:
        A_train, s_train, A_test, s_test = load_data()
    except ImportError:
        print("skipped: this example needs scikit-learn for the breast cancer data "
              "(pip install scikit-learn)")
        return None

    n = s_train.size
    problem = Problem.from_sum(cross_entropy_sum(A_train, s_train), n, np.zeros(A_train.shape[1]),
                               hess=cross_entropy_hessian(A_train, s_train))
    steps_per_epoch = -(-n // BATCH_SIZE)
    runs = [
        ("SGD", "sgd", {"batch_size": BATCH_SIZE, "epochs": EPOCHS, "lr": 0.5, "seed": 0},
         steps_per_epoch),
        ("Adam", "adam", {"batch_size": BATCH_SIZE, "epochs": EPOCHS, "lr": 1e-2, "seed": 0},
         steps_per_epoch),
        ("Newton", "newton", {"gtol": 1e-10}, 1),
    ]

    numbers = {}
    curves = {}
    print(f"{'method':<8} {'iterations':>10} {'training loss':>14} {'test accuracy':>14}")
    for label, method, options, steps_per_point in runs:
        result, losses, accuracies = train(method, problem, options, A_test, s_test,
                                           steps_per_point)
        test_accuracy = accuracy(result.x, A_test, s_test)
        numbers[method] = (float(result.fun), test_accuracy)
        curves[label] = (losses, accuracies)
        print(f"{label:<8} {result.nit:>10d} {result.fun:>14.6f} {test_accuracy:>14.4f}")

    write_plot(output_path(args.output_dir, "logistic_regression.png"), plot, curves)
    return numbers


if __name__ == "__main__":
    main()
