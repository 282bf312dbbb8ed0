"""Grade cells reject every answer that is not right: none, a spoof, or one that only looks right.

Each lesson lists, per exercise, a plausible wrong answer that passes (or nearly passes) the
visible checks: hard-coded values or half solutions. tests/grade_variants.py runs them: in nbval's
one execution of each lesson (``make test``), right after each grade cell passes with the solution,
the exercise and its grade cell run again with a spoofed answer (tests/test_spoofed_answers.py),
the wrong answer listed here and the blank answer the release ships; each must fail. The blank
comes last, so every later cell runs as in an unanswered release and must still reproduce its
stored outputs. This file holds the list and checks it is complete.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from tools.notebooks import lesson_notebooks, nbgrader_meta
from tools import ROOT

LESSONS = [p.parent.name for p in lesson_notebooks(ROOT / "solutions")]

WRONG_ANSWERS = {
    "00_setup": {
        # hard-coded: right for species only (the visible check also runs the statement's colours example)
        "ex00_1_count_by": '''
def count_by(df, column):
    return spark.createDataFrame([("Adelie", 152), ("Chinstrap", 68), ("Gentoo", 124)], f"{column} string, n bigint")
''',
        # half done: drops unknown sex but keeps rows with an unknown body mass in n
        "ex00_2_mass_by_sex": '''
def mass_by_species_and_sex(df):
    return (df.dropna(subset=["sex"]).groupBy("species", "sex")
            .agg(F.count("*").alias("n"), F.round(F.avg("body_mass_g"), 1).alias("mean_mass_g"))
            .orderBy("species", "sex"))
''',
    },
    "01_dataframes": {
        # half done: keeps the RDD API's vectors (pyspark.mllib.linalg), which spark.ml refuses
        "ex01_1_labeled_points": '''
def labeled_points_to_df(spark, points):
    return spark.createDataFrame(points.map(lambda p: (p.label, p.features)), ["label", "features"])
''',
        # hard-coded: returns the penguins already loaded, whatever file it is given
        "ex01_2_read_json": '''
def read_penguins_json(spark, path):
    return penguins
''',
        # wrong idea: the bounds filter the rows (keeps only lower_bound <= column < upper_bound)
        "ex01_3_partitions": '''
def rows_per_partition(spark, table, column, lower_bound, upper_bound, num_partitions):
    df = spark.read.jdbc(jdbc_url, table, column=column, lowerBound=lower_bound, upperBound=upper_bound,
                         numPartitions=num_partitions, properties=jdbc_props)
    kept = df.filter((F.col(column) >= lower_bound) & (F.col(column) < upper_bound))
    counts = {r.p: r["count"] for r in kept.groupBy(F.spark_partition_id().alias("p")).count().collect()}
    return [counts.get(p, 0) for p in range(df.rdd.getNumPartitions())]
''',
        # half done: counts every file, the note that is not an image too
        "ex01_4_image_labels": '''
def count_images_by_label(spark, path):
    read = spark.read.format("image").load(f"{path}/*")
    return (read.select(F.element_at(F.split("image.origin", "/"), -2).alias("label"))
            .groupBy("label").count().orderBy("label"))
''',
        # half done: forgets to drop duplicate rows
        "ex01_5_clean": '''
def clean_penguins(df):
    return (df.dropna(subset=["bill_length_mm", "bill_depth_mm"]).fillna({"sex": "unknown"})
            .withColumn("bill_ratio", F.round(F.col("bill_length_mm") / F.col("bill_depth_mm"), 2))
            .select("species", "island", "sex", "bill_length_mm", "bill_depth_mm", "body_mass_g", "bill_ratio")
            .orderBy("species", "island", "bill_ratio"))
''',
        # hard-coded: the split made earlier in the notebook, whatever the arguments
        "ex01_6_split": '''
def split(df, test_fraction, seed):
    return train, test
''',
    },
    "02_transformers": {
        # half done: default (frequency) order, which happens to be alphabetical for islands
        "ex02_1_encode": '''
def index_and_encode(df, column):
    indexed = StringIndexer(inputCol=column, outputCol=f"{column}_idx", handleInvalid="keep").fit(df).transform(df)
    return OneHotEncoder(inputCol=f"{column}_idx", outputCol=f"{column}_vec").fit(indexed).transform(indexed)
''',
        # half done: the mean instead of the median
        "ex02_2_assemble": '''
def assemble_features(df, numeric_cols, vector_cols):
    filled = [f"{c}_filled" for c in numeric_cols]
    imputed = Imputer(inputCols=numeric_cols, outputCols=filled).fit(df).transform(df)
    return VectorAssembler(inputCols=filled + list(vector_cols), outputCol="features").transform(imputed)
''',
        # half done: counts stop words too
        "ex02_3_tfidf": '''
def tfidf_features(df, vocab_size):
    words = RegexTokenizer(inputCol="text", outputCol="words", pattern="[^a-z]+").transform(df)
    terms = words.withColumn("terms", F.col("words"))
    counter = CountVectorizer(inputCol="terms", outputCol="tf", vocabSize=vocab_size).fit(terms)
    counted = counter.transform(terms)
    return IDF(inputCol="tf", outputCol="tfidf").fit(counted).transform(counted), counter.vocabulary
''',
    },
    "03_classification": {
        # half done: fits and returns the forest but never saves it
        "ex03_1_fit_save": '''
def fit_and_save(train_df, path):
    return RandomForestClassifier(numTrees=20, maxDepth=4, seed=SEED).fit(train_df)
''',
        # half done: counts right, but precision and recall swapped
        "ex03_2_metrics": '''
def binary_metrics(predictions):
    counts = {(r.label, r.prediction): r["count"] for r in predictions.groupBy("label", "prediction").count().collect()}
    tp, fp = counts.get((1.0, 1.0), 0), counts.get((0.0, 1.0), 0)
    tn, fn = counts.get((0.0, 0.0), 0), counts.get((1.0, 0.0), 0)
    recall, precision = tp / (tp + fp), tp / (tp + fn)
    return {"tp": tp, "fp": fp, "tn": tn, "fn": fn, "accuracy": (tp + tn) / (tp + fp + tn + fn),
            "precision": precision, "recall": recall, "f1": 2 * precision * recall / (precision + recall)}
''',
        # hard-coded: a plausible number that is not computed from df
        "ex03_3_baseline": '''
def majority_baseline_accuracy(df):
    return 0.5
''',
    },
    "04_regression": {
        # half done: the mean of the test set instead of the training set
        "ex04_1_baseline": '''
def baseline_rmse(train_df, test_df):
    mean = test_df.agg(F.avg("label")).first()[0]
    return RegressionEvaluator(metricName="rmse").evaluate(test_df.withColumn("prediction", F.lit(mean)))
''',
        # half done: lasso instead of ridge
        "ex04_2_ridge": '''
def fit_ridge(train_df, reg_param):
    return LinearRegression(regParam=reg_param, elasticNetParam=1.0).fit(train_df)
''',
        # too weak: one tree stump does not beat the baseline by the margin
        "ex04_3_beat_baseline": '''
def good_regressor(train_df):
    return DecisionTreeRegressor(maxDepth=1).fit(train_df)
''',
    },
    "05_clustering": {
        # half done: no seed, and the default k instead of the one asked for
        "ex05_1_silhouette": '''
def kmeans_silhouette(df, k):
    return ClusteringEvaluator().evaluate(KMeans().fit(df).transform(df))
''',
        # hard-coded: right for the wines only
        "ex05_2_choose_k": '''
def choose_k(df, candidates):
    return 3
''',
        # half done: indices instead of words
        "ex05_3_top_words": '''
def top_words(lda_model, vocabulary, n):
    return [list(map(str, row.termIndices)) for row in lda_model.describeTopics(n).orderBy("topic").collect()]
''',
    },
    "06_params": {
        # half done: only values set by hand, None for defaults
        "ex06_1_read": '''
def param_values(stage, names):
    return {name: stage.getOrDefault(stage.getParam(name)) if stage.isSet(stage.getParam(name)) else None
            for name in names}
''',
        # wrong: sets the values on the estimator instead of overriding them
        "ex06_2_override": '''
def fit_with(estimator, df, overrides):
    for name, value in overrides.items():
        estimator.set(estimator.getParam(name), value)
    return estimator.fit(df)
''',
        # wrong: sets the threshold on the model (right counts, but the model is changed for good)
        "ex06_3_threshold": '''
def positives_at(model, df, threshold):
    model.setThreshold(threshold)
    return model.transform(df).filter("prediction = 1.0").count()
''',
        # half done: sorted accuracies, not in grid order
        "ex06_4_grid": '''
def grid_accuracies(estimator, train_df, test_df, grid):
    evaluator = MulticlassClassificationEvaluator(metricName="accuracy")
    return sorted(evaluator.evaluate(m.transform(test_df)) for m in estimator.fit(train_df, grid))
''',
    },
    "07_pipelines": {
        # half done: overrides every stage of the type, not only the first
        "ex07_1_override": '''
def fit_overriding(pipeline, df, stage_type, overrides):
    matches = [s for s in pipeline.getStages() if isinstance(s, stage_type)]
    if not matches:
        raise ValueError(f"the pipeline has no {stage_type.__name__} stage")
    return pipeline.fit(df, {s.getParam(name): value for s in matches for name, value in overrides.items()})
''',
        # half done: forgets body_mass_g among the features
        "ex07_2_sex_pipeline": '''
def sex_pipeline():
    places = ["species", "island"]
    return Pipeline(stages=[
        StringIndexer(inputCol="sex", outputCol="label", stringOrderType="alphabetAsc"),
        StringIndexer(inputCols=places, outputCols=[f"{c}_index" for c in places], handleInvalid="keep"),
        OneHotEncoder(inputCols=[f"{c}_index" for c in places], outputCols=[f"{c}_vector" for c in places]),
        VectorAssembler(inputCols=NUMERIC + [f"{c}_vector" for c in places], outputCol="features"),
        LogisticRegression(),
        IndexToString(inputCol="prediction", outputCol="predicted_sex", labels=["female", "male"]),
    ])
''',
        # half done: saves the unfitted pipeline but fits the original, never the copy loaded from disk
        "ex07_3_refit": '''
def save_and_refit(pipeline, path, df):
    pipeline.write().overwrite().save(path)
    return pipeline.fit(df)
''',
        # leaky: fits the stages on the training and the test rows
        "ex07_4_honest": '''
def honest_accuracy(stages, train_df, test_df):
    fitted = Pipeline(stages=stages).fit(train_df.unionByName(test_df))
    return MulticlassClassificationEvaluator(metricName="accuracy").evaluate(fitted.transform(test_df))
''',
        # chooses with the test rows: tunes on train_df and the test set together
        "ex07_5_tune": '''
def tune_gbt(train_df):
    gbt = GBTRegressor(labelCol=LABEL, seed=SEED)
    grid = ParamGridBuilder().addGrid(gbt.maxDepth, [1, 2]).build()
    return TrainValidationSplit(estimator=mass_pipeline(gbt), estimatorParamMaps=grid, evaluator=rmse,
                                trainRatio=0.75, seed=SEED).fit(train_df.unionByName(test))
''',
    },
    "08_recommend_explicit": {
        # hard-coded: MovieLens's numbers, whatever the DataFrame
        "ex08_1_summary": '''
def matrix_summary(df):
    return {"users": 610, "movies": 9724, "ratings": 100836, "density": 100836 / (610 * 9724)}
''',
        # half done: ignores cold start, so an unseen movie makes the RMSE NaN
        "ex08_2_known_rmse": '''
def known_rmse(model, df, label_col="rating"):
    return RegressionEvaluator(labelCol=label_col, predictionCol=model.getPredictionCol()).evaluate(model.transform(df))
''',
        # wrong data: chooses the damping on the rows it was fitted on (always the least damping)
        "ex08_3_damping": '''
def best_damping(fit_df, validation_df, candidates):
    scores = [rmse(with_baseline(fit_df, fit_bias_baseline(fit_df, *pair)), "baseline") for pair in candidates]
    return candidates[scores.index(min(scores))]
''',
        # half done: the top n of all movies, seen ones included
        "ex08_4_top_n": '''
def top_n_unseen(model, user_id, seen, movies_df, n):
    recs = model.recommendForUserSubset(spark.createDataFrame([(user_id,)], "userId int"), n)
    ranked = recs.select(F.posexplode("recommendations").alias("position", "rec"))
    return (ranked.select((F.col("position") + 1).cast("int").alias("rank"), "rec.movieId")
            .join(movies_df, "movieId").select("rank", "movieId", "title").orderBy("rank"))
''',
    },
    "09_recommend_implicit": {
        # half done: divides by the length of the list instead of k
        "ex09_1_precision": '''
def precision_at_k(recommended, relevant, k):
    top = list(recommended)[:k]
    return sum(1 for movie in top if movie in set(relevant)) / max(len(top), 1)
''',
        # half done: the ideal list is always k long, even with fewer relevant movies
        "ex09_2_ndcg": '''
def ndcg_at_k(recommended, relevant, k):
    wanted = set(relevant)
    if not wanted:
        return 0.0
    gain = sum(1 / np.log2(i + 2) for i, movie in enumerate(list(recommended)[:k]) if movie in wanted)
    return float(gain / sum(1 / np.log2(i + 2) for i in range(k)))
''',
        # half done: the most popular movies, the user's own included
        "ex09_3_popular": '''
def most_popular_unseen(df, user_id, k):
    counts = df.groupBy("movieId").agg(F.countDistinct("userId").alias("users"))
    return [int(row.movieId) for row in counts.orderBy(F.desc("users"), "movieId").limit(k).collect()]
''',
    },
    "10_mlflow": {
        # half done: logs only the first param and the first metric
        "ex10_1_log_run": '''
def log_run(run_name, params, metrics, figure):
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_param(*next(iter(params.items())))
        mlflow.log_metric(*next(iter(metrics.items())))
        mlflow.log_figure(figure, "confusion_matrix.png")
        mlflow.set_tag("course_lesson", "10")
    return run.info.run_id
''',
        # half done: always takes the highest value, whatever higher_is_better says
        "ex10_2_best_run": '''
def best_run_id(experiment_name, metric, higher_is_better=True):
    found = mlflow.search_runs(experiment_names=[experiment_name], order_by=[f"metrics.{metric} DESC"])
    return found.dropna(subset=[f"metrics.{metric}"])["run_id"].iloc[0]
''',
        # half done: always sets the alias champion, ignoring the alias argument
        "ex10_3_promote": '''
def promote(model_name, run_id, alias="champion"):
    client = mlflow.MlflowClient()
    if not client.search_registered_models(filter_string=f"name = '{model_name}'"):
        client.create_registered_model(model_name)
    version = client.create_model_version(model_name, source=f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias(model_name, "champion", version.version)
    return int(version.version)
''',
        # half done: never looks at the status code, so a 400 surfaces as a KeyError, not a ValueError
        "ex10_4_rest": '''
def predict_over_rest(url, rows):
    split = rows.to_dict(orient="split")
    body = {"dataframe_split": {"columns": split["columns"], "data": split["data"]}}
    return [float(p) for p in requests.post(f"{url}/invocations", json=body, timeout=60).json()["predictions"]]
''',
        # hard-coded: the contract of the Spark model of the visible check, whatever model it is given
        "ex10_5_contract": '''
def model_contract(model_uri):
    types = {"species": "string", "island": "string", "bill_length_mm": "double", "bill_depth_mm": "double",
             "flipper_length_mm": "double", "body_mass_g": "double"}
    return ["python_function", "spark"], types
''',
        # half done: every parameter typed float, whatever its default
        "ex10_6_project_spec": '''
def project_spec(script, parameters):
    command = " ".join([f"python {script}", *(f"--{name} {{{name}}}" for name in parameters)])
    spec = {"name": "job", "entry_points": {"main": {
        "parameters": {name: {"type": "float", "default": value} for name, value in parameters.items()},
        "command": command}}}
    return yaml.safe_dump(spec, sort_keys=False)
''',
    },
    "11_scaling_out": {
        # half done: never refuses a combination Spark refuses (only the local one, the visible check)
        "ex11_2_submit_command": '''
def submit_command(script, master, app_args=(), conf=None, deploy_mode="client"):
    if deploy_mode == "cluster" and master.startswith("local"):
        raise ValueError("no cluster mode in local mode")
    command = ["spark-submit", "--master", master, "--deploy-mode", deploy_mode]
    for key, value in sorted((conf or {}).items()):
        command += ["--conf", f"{key}={value}"]
    return command + [str(script), *map(str, app_args)]
''',
        # half done: counts the driver as an executor whenever it reports cores
        "ex11_1_executor_summary": '''
def executor_summary(executors):
    workers = [e for e in executors if e["totalCores"] > 0]
    return {"executors": len(workers), "cores": sum(e["totalCores"] for e in workers),
            "tasks": sum(e["completedTasks"] for e in workers),
            "hosts": sorted({e["hostPort"].rsplit(":", 1)[0] for e in workers})}
''',
        # half done: the --conf pairs in the order given, not sorted (the visible check has one)
        "ex11_3_emr_step": '''
def emr_spark_step(name, script_uri, args=(), conf=None):
    if not str(script_uri).startswith("s3://"):
        raise ValueError("the script must be on S3")
    submit = ["spark-submit", "--deploy-mode", "cluster"]
    for key, value in (conf or {}).items():
        submit += ["--conf", f"{key}={value}"]
    return {"Name": name, "ActionOnFailure": "CONTINUE",
            "HadoopJarStep": {"Jar": "command-runner.jar", "Args": [*submit, script_uri, *map(str, args)]}}
''',
    },
    "12_spark_vs_sklearn": {
        # half done: right for categories seen in training, but an unseen one fails (no handleInvalid="keep")
        # instead of giving all zeros
        "ex12_1_translate": '''
def spark_preprocessor(numeric, categorical):
    imputed = [f"{c}_imputed" for c in numeric]
    indexed = [f"{c}_idx" for c in categorical]
    encoded = [f"{c}_vec" for c in categorical]
    return Pipeline(stages=[
        Imputer(inputCols=list(numeric), outputCols=imputed, strategy="mean"),
        VectorAssembler(inputCols=imputed, outputCol="numeric"),
        MinMaxScaler(inputCol="numeric", outputCol="numeric_scaled"),
        StringIndexer(inputCols=list(categorical), outputCols=indexed, stringOrderType="alphabetAsc"),
        OneHotEncoder(inputCols=indexed, outputCols=encoded, dropLast=False),
        VectorAssembler(inputCols=["numeric_scaled", *encoded], outputCol="features"),
    ])
''',
        # half done: the first size where Spark is faster, even if it is slower again later
        "ex12_3_crossover": '''
def crossover_size(sizes, sklearn_seconds, spark_seconds):
    for size, sklearn_time, spark_time in zip(sizes, sklearn_seconds, spark_seconds):
        if spark_time < sklearn_time:
            return size
    return None
''',
        # wrong score: the 0/1 prediction instead of the probability of class 1
        "ex12_2_scores": '''
def to_numpy_scores(predictions, label_col="label", probability_col="probability"):
    rows = predictions.select(F.col(label_col).cast("double").alias("y"), "prediction").toPandas()
    return rows["y"].to_numpy(), rows["prediction"].to_numpy()
''',
    },
    "90_feature_catalogue": {
        # half done: the category's index, not its share of positives
        "ex90_1_rate": '''
def positive_rate(df, column, label):
    indexed = StringIndexer(inputCol=column, outputCol=f"{column}_idx").fit(df).transform(df)
    return indexed.withColumn(f"{column}_rate", F.col(f"{column}_idx"))
''',
        # wrong scaler: the mean and standard deviation, which the outlier pulls
        "ex90_2_scale": '''
def robust_scale(df, input_col, output_col):
    return StandardScaler(inputCol=input_col, outputCol=output_col, withMean=True).fit(df).transform(df)
''',
        # half done: splits on white space, so punctuation sticks to the words
        "ex90_3_phrases": '''
def phrases(df, n):
    words = Tokenizer(inputCol="text", outputCol="words").transform(df)
    return NGram(inputCol="words", outputCol="phrases", n=n).transform(words)
''',
        # half done: the first slots by position, whatever their names
        "ex90_4_slots": '''
def keep_slots(df, names):
    return VectorSlicer(inputCol="features", outputCol="selected", indices=list(range(len(names)))).transform(df)
''',
        # half done: the default threshold instead of the one given
        "ex90_5_flat": '''
def drop_flat_slots(df, threshold):
    return VarianceThresholdSelector(featuresCol="features", outputCol="selected").fit(df).transform(df)
''',
    },
    "91_model_catalogue": {
        # wrong pick: a discriminative linear model, not per-class word distributions
        "ex91_1_words": '''
def word_count_classifier(df):
    return LogisticRegression().fit(df)
''',
        # half done: the non-increasing fit
        "ex91_2_monotone": '''
def monotone_fit(df, feature_col, label_col):
    return IsotonicRegression(featuresCol=feature_col, labelCol=label_col, isotonic=False).fit(df)
''',
        # wrong pick: hard assignments, no probabilities
        "ex91_3_soft": '''
def soft_clusters(df, k):
    return KMeans(k=k, seed=SEED).fit(df).transform(df)
''',
        # half done: the default confidence instead of the one given
        "ex91_4_rules": '''
def basket_rules(df, min_support, min_confidence):
    return FPGrowth(itemsCol="items", minSupport=min_support).fit(df).associationRules
''',
        # wrong pick: k folds instead of one split
        "ex91_5_tune": '''
def tune_one_split(estimator, grid, evaluator, df):
    return CrossValidator(estimator=estimator, estimatorParamMaps=grid, evaluator=evaluator, seed=SEED).fit(df)
''',
    },
}


def _solution_ids(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("solution")]


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_exercise_has_a_wrong_answer_listed(lesson):
    path = ROOT / "solutions" / lesson / f"{lesson}.ipynb"
    assert sorted(WRONG_ANSWERS.get(lesson, {})) == sorted(_solution_ids(path))


@pytest.mark.slow
def test_nbval_tries_the_wrong_answers_after_every_grade_cell():
    """make test's nbval run holds, right after each grade cell, the item that tries the variants."""
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "--nbval", "solutions"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout.splitlines()
    for lesson in LESSONS:
        prefix = f"solutions/{lesson}/{lesson}.ipynb::"
        names = [line[len(prefix):] for line in collected if line.startswith(prefix)]
        solutions = nbformat.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
        code = [c for c in solutions.cells if c.cell_type == "code"]
        expected = []
        for number, cell in enumerate(code):
            expected.append(f"Cell {number}")
            if nbgrader_meta(cell).get("grade"):
                expected.append(f"{nbgrader_meta(cell)['grade_id']} rejects spoofed/wrong/blank")
        assert names == expected + ["left nothing behind"], lesson
