"""Every public pyspark.ml Transformer and Estimator is constructed in some lesson (see COVERAGE.md).

The classes come from introspecting the installed pyspark, so a Spark upgrade that adds one makes
this test name it. Only code cells count, parsed (never prose, strings or comments).
"""

from __future__ import annotations

import pytest

from tools import ml_coverage
from tools.ml_coverage import EXCLUDED, constructed, coverage, kind, missing, ml_classes, model_makers, render

APPENDIX = {
    "90_feature_catalogue": ("pyspark.ml.feature",),
    "91_model_catalogue": ("pyspark.ml.classification", "pyspark.ml.regression", "pyspark.ml.clustering",
                           "pyspark.ml.recommendation", "pyspark.ml.fpm", "pyspark.ml.pipeline", "pyspark.ml.tuning"),
}


@pytest.fixture(scope="module")
def table():
    return coverage()


def test_introspection_finds_the_public_classes_only():
    classes = ml_classes()
    modules = {cls.__module__ for cls in classes.values()}
    assert {m for ms in APPENDIX.values() for m in ms} <= modules
    for name in ("pyspark.ml.feature.Tokenizer", "pyspark.ml.feature.PCAModel", "pyspark.ml.pipeline.Pipeline",
                 "pyspark.ml.tuning.CrossValidatorModel", "pyspark.ml.clustering.DistributedLDAModel"):
        assert name in classes, name
    for name in ("pyspark.ml.base.Estimator", "pyspark.ml.base.UnaryTransformer", "pyspark.ml.wrapper.JavaModel",
                 "pyspark.ml.classification.ProbabilisticClassifier", "pyspark.ml.feature._LSHModel",
                 "pyspark.ml.tree._DecisionTreeModel"):
        assert name not in classes, f"{name} is private, abstract or a wrapper base"


def test_every_model_is_made_by_an_estimator():
    makers = model_makers()
    orphans = [name for name, estimators in makers.items() if not estimators]
    assert orphans == [], f"cannot tell which Estimator's fit returns: {orphans}"
    assert makers["pyspark.ml.feature.StringIndexerModel"] == ["pyspark.ml.feature.StringIndexer"]
    assert makers["pyspark.ml.clustering.LocalLDAModel"] == ["pyspark.ml.clustering.LDA"]
    assert makers["pyspark.ml.pipeline.PipelineModel"] == ["pyspark.ml.pipeline.Pipeline"]


@pytest.mark.slow
def test_every_public_class_is_covered_or_excluded(table):
    gaps = missing(table)
    assert gaps == [], (f"{len(gaps)} public pyspark.ml classes are constructed in no solutions/ notebook: "
                        f"{', '.join(gaps)}. Give each an entry in lesson 90 or 91, or an exclusion with its "
                        "reason in tools/ml_coverage.py EXCLUDED.")


def test_exclusions_have_a_reason_and_are_still_needed(table):
    for name, reason in EXCLUDED.items():
        assert name in ml_classes(), f"EXCLUDED names {name}, which this pyspark does not have"
        assert len(reason.split()) >= 3, f"say why {name} is excluded"
        assert not table[name], f"{name} is excluded but covered by {table[name]}: drop the exclusion"


@pytest.mark.parametrize("lesson", sorted(APPENDIX))
def test_appendix_lessons_have_an_entry_for_every_class_of_their_modules(table, lesson):
    wanted = [name for name, cls in ml_classes().items() if cls.__module__ in APPENDIX[lesson] and name not in EXCLUDED]
    absent = [name for name in wanted if lesson not in table[name]]
    assert absent == [], f"{lesson} has no entry constructing (the Estimator of) {absent}"


def test_coverage_file_is_current(table):
    current = ml_coverage.COVERAGE_FILE.read_text() if ml_coverage.COVERAGE_FILE.exists() else ""
    assert current == render(table), "COVERAGE.md is stale: run make coverage"


def test_constructed_reads_code_not_prose():
    cells = [
        "from pyspark.ml.feature import Tokenizer, PCA as Reducer\nimport pyspark.ml.feature as mf\n"
        "from pyspark.ml import Pipeline, clustering",
        "Tokenizer(inputCol='text')\nReducer(k=2)",
        "mf.NGram(n=3)\nPipeline(stages=[])\nclustering.KMeans(k=2)",
        "%time x = 1\n# Binarizer(threshold=1.0)\ntext = 'Normalizer(p=1.0)'\nloader = mf.StringIndexerModel.load",
    ]
    assert constructed(cells) == {"pyspark.ml.feature.Tokenizer", "pyspark.ml.feature.PCA", "pyspark.ml.feature.NGram",
                                  "pyspark.ml.pipeline.Pipeline", "pyspark.ml.clustering.KMeans"}


def test_a_model_counts_through_its_estimator():
    built = constructed(["from pyspark.ml.feature import IDF\nIDF(inputCol='tf')"])
    models = [name for name, makers in model_makers().items() if set(makers) & built]
    assert models == ["pyspark.ml.feature.IDFModel"] and kind(ml_classes()[models[0]]) == "Model"
