"""Plots the lessons show: confusion matrices, ROC/PR curves, feature importances, tuning curves.

Each function returns a matplotlib Figure (closed, so a notebook shows it once: as the cell's
value). Counts and curves are aggregated in Spark, so only the aggregates reach the driver; a
scatter plot (``residuals``, ``scatter_2d``) draws every point it is given, so give it a sample
of large data.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from sparkcourse import SEED


def confusion_counts(predictions, label_col: str = "label", prediction_col: str = "prediction",
                     labels: Sequence | None = None) -> tuple[list, np.ndarray]:
    """(labels, counts) where ``counts[i, j]`` = rows with true label i predicted as j."""
    rows = predictions.groupBy(label_col, prediction_col).count().collect()
    found = sorted({r[label_col] for r in rows} | {r[prediction_col] for r in rows})
    labels = list(labels) if labels is not None else found
    index = {value: i for i, value in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), dtype=int)
    for row in rows:
        if row[label_col] in index and row[prediction_col] in index:
            counts[index[row[label_col]], index[row[prediction_col]]] += row["count"]
    return labels, counts


def confusion_matrix(predictions, label_col: str = "label", prediction_col: str = "prediction",
                     labels: Sequence | None = None, names: Sequence[str] | None = None):
    """Counts and row-normalised (recall per class) heatmaps side by side."""
    labels, counts = confusion_counts(predictions, label_col, prediction_col, labels)
    names = list(names) if names is not None else [str(v) for v in labels]
    totals = counts.sum(axis=1, keepdims=True)
    normalised = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, values, title, fmt in ((axes[0], counts, "Counts", "d"),
                                   (axes[1], normalised, "Share of each true class", ".2f")):
        image = ax.imshow(values, cmap="Blues")
        ax.set(title=title, xlabel="predicted", ylabel="true",
               xticks=range(len(names)), yticks=range(len(names)))
        ax.set_xticklabels(names, rotation=30, ha="right")
        ax.set_yticklabels(names)
        threshold = values.max() / 2 if values.size else 0
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                ax.text(j, i, format(values[i, j], fmt), ha="center", va="center",
                        color="white" if values[i, j] > threshold else "black")
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    plt.close(fig)
    return fig


def _curve_points(predictions, label_col: str, probability_col: str):
    """Cumulative true and false positives at each distinct score, best score first.

    Counted in Spark per distinct score of class 1: one row per score reaches the driver, never
    one per prediction."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    rows = (predictions.select(vector_to_array(probability_col)[1].alias("score"),
                               predictions[label_col].cast("double").alias("y"))
            .groupBy("score").agg(F.sum("y").alias("positives"), F.count("*").alias("rows"))
            .orderBy(F.desc("score")).collect())
    tp = np.cumsum([int(r.positives) for r in rows])
    fp = np.cumsum([r.rows for r in rows]) - tp
    return tp, fp


def roc_curve(predictions, label_col: str = "label", probability_col: str = "probability"):
    """ROC curve of a binary classifier (positive class = label 1), with its AUC in the legend."""
    tp, fp = _curve_points(predictions, label_col, probability_col)
    tpr = np.r_[0, tp / max(tp[-1], 1)]
    fpr = np.r_[0, fp / max(fp[-1], 1)]
    auc = float(np.trapezoid(tpr, fpr))
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(fpr, tpr, label=f"model (AUC = {auc:.3f})")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate (recall)", title="ROC curve",
           xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right")
    plt.close(fig)
    return fig


def pr_curve(predictions, label_col: str = "label", probability_col: str = "probability"):
    """Precision-recall curve of a binary classifier, with the positive rate as the chance line."""
    tp, fp = _curve_points(predictions, label_col, probability_col)
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / max(tp[-1], 1)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(np.r_[0, recall], np.r_[1, precision], label="model")
    ax.axhline(tp[-1] / (tp[-1] + fp[-1]) if tp.size else 0, ls="--", color="grey", label="chance (positive rate)")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall curve", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower left")
    plt.close(fig)
    return fig


def feature_importances(importances, names: Sequence[str], top: int | None = None,
                        title: str = "Feature importances"):
    """Horizontal bars, largest on top. ``importances``: a Spark Vector or any sequence."""
    values = np.asarray(importances.toArray() if hasattr(importances, "toArray") else importances, dtype=float)
    if len(values) != len(names):
        raise ValueError(f"{len(values)} importances but {len(names)} names")
    order = np.argsort(values)[::-1][: top or len(values)][::-1]
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(order) + 1.2))
    ax.barh([names[i] for i in order], values[order])
    ax.set(xlabel="importance", title=title)
    fig.tight_layout()
    plt.close(fig)
    return fig


def metric_curve(values: Sequence, metrics: Sequence[float] | dict, xlabel: str, ylabel: str,
                 title: str | None = None, log_x: bool = False):
    """A metric against a parameter; ``metrics`` may be a dict of series (one line each)."""
    series = metrics if isinstance(metrics, dict) else {ylabel: metrics}
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, ys in series.items():
        ax.plot(list(values), list(ys), marker="o", label=name)
    if log_x:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title or f"{ylabel} by {xlabel}")
    if len(series) > 1:
        ax.legend()
    ax.grid(alpha=0.3)
    plt.close(fig)
    return fig


def residuals(predictions, label_col: str = "label", prediction_col: str = "prediction", title: str = "Residuals"):
    """Residual (true - predicted) against predicted value: a good model leaves a shapeless band around 0.

    A scatter needs every point: all rows of ``predictions`` reach the driver. On large data, pass
    a sample (``predictions.sample(fraction, seed=SEED)``)."""
    data = predictions.select(predictions[label_col].cast("double").alias("y"),
                              predictions[prediction_col].cast("double").alias("p")).toPandas()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(data["p"], data["y"] - data["p"], s=10, alpha=0.6)
    ax.axhline(0, color="grey", ls="--")
    ax.set(xlabel="predicted", ylabel="true - predicted", title=title)
    plt.close(fig)
    return fig


def scatter_2d(points, x: str, y: str, colour: str, title: str | None = None):
    """A 2-D scatter of a small pandas DataFrame, one colour per value of ``colour``."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for value, group in points.groupby(colour, sort=True):
        ax.scatter(group[x], group[y], s=14, label=str(value))
    ax.set(xlabel=x, ylabel=y, title=title or f"{y} against {x}")
    ax.legend(title=colour)
    plt.close(fig)
    return fig


def pipeline_diagram(pipeline, title: str | None = None):
    """The stages of a Pipeline (or PipelineModel) left to right: Estimators, which ``fit`` turns
    into Models, in one colour; Transformers, used as they are, in another."""
    from matplotlib.patches import FancyBboxPatch, Patch
    from pyspark.ml import Estimator

    from sparkcourse.features import pipeline_stages

    stages = pipeline_stages(pipeline)
    colours = {"Estimator": "#f4a261", "Transformer": "#8ecae6"}
    fig, ax = plt.subplots(figsize=(max(6.0, 2.1 * len(stages)), 1.9))
    for i, stage in enumerate(stages):
        kind = "Estimator" if isinstance(stage, Estimator) else "Transformer"
        ax.add_patch(FancyBboxPatch((i * 2.1, 0), 1.7, 1, boxstyle="round,pad=0.05",
                                    facecolor=colours[kind], edgecolor="black"))
        name = type(stage).__name__
        ax.text(i * 2.1 + 0.85, 0.5, name.replace("Model", "\nModel") if len(name) > 14 else name,
                ha="center", va="center", fontsize=8)
        if i:
            ax.annotate("", xy=(i * 2.1 - 0.08, 0.5), xytext=(i * 2.1 - 0.32, 0.5),
                        arrowprops={"arrowstyle": "->"})
    ax.set_xlim(-0.2, len(stages) * 2.1 - 0.2)
    ax.set_ylim(-0.3, 1.3)
    ax.axis("off")
    ax.legend(handles=[Patch(facecolor=c, edgecolor="black", label=k) for k, c in colours.items()],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8, frameon=False)
    ax.set_title(title or f"{type(pipeline).__name__}: {len(stages)} stages", fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig


# Where the driver runs, per way of running Spark: (panel title, boxes, arrows). A box is
# (x, y, width, height, label, kind); kind picks the colour. Arrows go between box labels.
_DEPLOY_MODES = [
    ("local[n]: one JVM on your machine",
     [(0.05, 0.05, 0.9, 0.9, "your machine", "machine"),
      (0.15, 0.55, 0.7, 0.25, "driver\n(notebook's JVM)", "driver"),
      (0.15, 0.15, 0.7, 0.25, "executor threads ×n", "executor")], []),
    ("client mode: the driver stays with you",
     [(0.02, 0.3, 0.38, 0.4, "driver\n(notebook, shell,\nspark-submit)", "driver"),
      (0.5, 0.05, 0.48, 0.9, "cluster", "machine"),
      (0.56, 0.6, 0.36, 0.22, "executor", "executor"),
      (0.56, 0.18, 0.36, 0.22, "executor", "executor")],
     [(0.4, 0.5, 0.56, 0.71), (0.4, 0.5, 0.56, 0.29)]),
    ("cluster mode: the driver runs in the cluster",
     [(0.02, 0.35, 0.3, 0.3, "spark-submit\n(returns)", "client"),
      (0.4, 0.05, 0.58, 0.9, "cluster", "machine"),
      (0.45, 0.38, 0.22, 0.24, "driver", "driver"),
      (0.73, 0.6, 0.22, 0.22, "executor", "executor"),
      (0.73, 0.18, 0.22, 0.22, "executor", "executor")],
     [(0.32, 0.5, 0.45, 0.5), (0.67, 0.5, 0.73, 0.71), (0.67, 0.5, 0.73, 0.29)]),
    ("Spark Connect: a thin client over gRPC",
     [(0.02, 0.35, 0.28, 0.3, "client\n(no JVM)", "client"),
      (0.38, 0.05, 0.6, 0.9, "server side", "machine"),
      (0.42, 0.38, 0.24, 0.24, "Connect\nserver =\ndriver", "driver"),
      (0.73, 0.6, 0.22, 0.22, "executor", "executor"),
      (0.73, 0.18, 0.22, 0.22, "executor", "executor")],
     [(0.3, 0.5, 0.42, 0.5), (0.66, 0.5, 0.73, 0.71), (0.66, 0.5, 0.73, 0.29)]),
]


def deploy_modes():
    """Four panels: where the driver and the executors run in local mode, client mode, cluster
    mode and with Spark Connect."""
    from matplotlib.patches import FancyBboxPatch, Patch

    colours = {"machine": "#f1f1f1", "driver": "#f4a261", "executor": "#8ecae6", "client": "#cdeac0"}
    fig, axes = plt.subplots(1, len(_DEPLOY_MODES), figsize=(13, 3.2))
    for ax, (title, boxes, arrows) in zip(axes, _DEPLOY_MODES):
        for x, y, width, height, label, kind in boxes:
            ax.add_patch(FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.01",
                                        facecolor=colours[kind], edgecolor="black"))
            top = kind == "machine"
            ax.text(x + width / 2, y + height - 0.04 if top else y + height / 2, label,
                    ha="center", va="top" if top else "center", fontsize=8)
        for x0, y0, x1, y1 in arrows:
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops={"arrowstyle": "->"})
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.axis("off")
        ax.set_title(title, fontsize=9)
    fig.legend(handles=[Patch(facecolor=colours[k], edgecolor="black", label=k) for k in
                        ("driver", "executor", "client")], loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    plt.close(fig)
    return fig


def scaling_curves(table, title: str = "The same task in scikit-learn and Spark ML"):
    """Wall time and peak memory against rows, one line per library, log axes. ``table``: one row
    per run with columns library, rows, seconds, peak_mb (``sparkcourse.benchmark.as_table``)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, column, label in ((axes[0], "seconds", "wall time (s)"), (axes[1], "peak_mb", "peak memory (MB)")):
        for library, group in table.sort_values("rows").groupby("library", sort=True):
            ax.plot(group["rows"], group[column], marker="o", label=library)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set(xlabel="rows (train + test)", ylabel=label)
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    axes[0].set_title("Wall time: read, fit, score, AUC")
    axes[1].set_title("Peak memory (scikit-learn: traced; Spark: JVM RSS)")
    fig.suptitle(title)
    fig.tight_layout()
    plt.close(fig)
    return fig


def ratings_matrix(ratings, users: int = 60, items: int = 120, rank: int = 10, user_col: str = "userId",
                   item_col: str = "movieId", rating_col: str = "rating", seed: int = SEED):
    """Left: a block of the user x item ratings matrix (users and items picked by a seeded hash),
    mostly empty. Right: the same matrix as the product of two thin factor matrices, users x rank
    and rank x items, as ALS learns them."""
    from pyspark.sql import functions as F

    def pick(column: str, n: int):
        keyed = ratings.select(column).distinct().withColumn("key", F.xxhash64(column, F.lit(seed)))
        return [r[column] for r in keyed.orderBy("key", column).limit(n).collect()]

    user_ids, item_ids = pick(user_col, users), pick(item_col, items)
    cells = (ratings.where(F.col(user_col).isin(user_ids) & F.col(item_col).isin(item_ids))
             .select(user_col, item_col, rating_col).collect())
    row, col = {u: i for i, u in enumerate(user_ids)}, {m: j for j, m in enumerate(item_ids)}
    grid = np.full((len(user_ids), len(item_ids)), np.nan)
    for cell in cells:
        grid[row[cell[user_col]], col[cell[item_col]]] = cell[rating_col]
    filled = int(np.isfinite(grid).sum())

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6), gridspec_kw={"width_ratios": [1.6, 1]})
    image = left.imshow(grid, cmap="viridis", vmin=0.5, vmax=5, aspect="auto", interpolation="nearest")
    left.set_facecolor("#f2f2f2")
    left.set(title=f"{len(user_ids)} users x {len(item_ids)} movies: {filled} of {grid.size} cells rated",
             xlabel="movies", ylabel="users", xticks=[], yticks=[])
    fig.colorbar(image, ax=left, label="rating", fraction=0.04)

    right.set_xlim(0, 10)
    right.set_ylim(0, 7)
    right.axis("off")
    shapes = [((0.2, 1.0), 2.6, 5.0, "R\nusers x movies", "#dddddd"),
              ((3.6, 1.0), 0.7, 5.0, f"U\nusers\nx {rank}", "#9ecae1"),
              ((5.0, 5.3), 4.6, 0.7, f"Vᵀ   {rank} x movies", "#fdae6b")]
    for (x, y), width, height, text, colour in shapes:
        right.add_patch(plt.Rectangle((x, y), width, height, facecolor=colour, edgecolor="black"))
        right.text(x + width / 2, y + height / 2, text, ha="center", va="center", fontsize=10)
    right.text(3.2, 3.5, "≈", ha="center", va="center", fontsize=22)
    right.text(4.65, 3.5, "×", ha="center", va="center", fontsize=16)
    right.text(5.0, 3.2, "rating(u, m) ≈ U[u] · V[m]\n(a dot product of\ntwo rank-long vectors)",
               ha="left", va="center", fontsize=10)
    right.set_title(f"Matrix factorisation with rank {rank}")
    fig.tight_layout()
    plt.close(fig)
    return fig
