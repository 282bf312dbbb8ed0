"""A spoofed answer scores nothing: grade cells decide without trusting the learner's value.

A hostile submission can replace every answer function by one that returns an object which
equals, exceeds and contains everything (``__eq__``, ``__ge__``, ``__contains__`` ... return True),
claims to be of the class a check asks for (``__class__``), answers every attribute and call with
itself and converts to 0.5 or 1 (``__float__``, ``__int__``, ``__len__``, ``__bool__``). A grade cell
that compares with ``==`` or ``>=``, calls ``float()`` or tests ``isinstance`` gives it points.

Every grade cell of every lesson is run against such a spoof (claiming the class the real answer
has) in nbval's execution of the lesson, with the blank and wrong answers
(tests/grade_variants.py); this file defines the spoof.
"""

from __future__ import annotations

import ast

SPOOF = '''
class _Spoof:
    """Equal to, greater and smaller than everything; any attribute or call gives itself."""

    def __init__(self, claims):
        self._claims = claims

    @property
    def __class__(self):  # isinstance(answer, <the class claimed>) is True
        import importlib

        module, _, name = self._claims.rpartition(":")
        return getattr(importlib.import_module(module or "builtins"), name)

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __lt__ = __le__ = __gt__ = __ge__ = __contains__ = __eq__

    def __hash__(self):
        return 0

    def __getattr__(self, name):
        if name.startswith("_repr_") or name.startswith("_ipython_"):
            raise AttributeError(name)
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __getitem__(self, key):
        return self

    def __iter__(self):
        return iter([self, self])

    def __float__(self):
        return 0.5

    def __int__(self):
        return 1

    __index__ = __len__ = __int__

    def __bool__(self):
        return True
'''

DATAFRAME = "pyspark.sql:DataFrame"
#: The class each spoofed answer claims to be: the class of the real answer.
CLAIMS = {
    "ex01_3_partitions": "list", "ex01_6_split": "tuple", "ex02_3_tfidf": "tuple",
    "ex03_1_fit_save": "pyspark.ml.classification:RandomForestClassificationModel",
    "ex03_2_metrics": "dict", "ex03_3_baseline": "float",
    "ex04_1_baseline": "float", "ex04_2_ridge": "pyspark.ml.regression:LinearRegressionModel",
    "ex04_3_beat_baseline": "pyspark.ml.regression:GBTRegressionModel",
    "ex05_1_silhouette": "float", "ex05_2_choose_k": "int", "ex05_3_top_words": "list",
    "ex06_1_read": "dict", "ex06_2_override": "pyspark.ml.classification:LogisticRegressionModel",
    "ex06_3_threshold": "int", "ex06_4_grid": "list",
    "ex07_1_override": "pyspark.ml:PipelineModel", "ex07_2_sex_pipeline": "pyspark.ml:Pipeline",
    "ex07_3_refit": "pyspark.ml:PipelineModel", "ex07_4_honest": "float",
    "ex07_5_tune": "pyspark.ml.tuning:TrainValidationSplitModel",
    "ex10_1_log_run": "str", "ex10_2_best_run": "str", "ex10_3_promote": "int", "ex10_4_rest": "list",
    "ex10_5_contract": "tuple", "ex10_6_project_spec": "str",
    "ex11_1_executor_summary": "dict", "ex11_2_submit_command": "list", "ex11_3_emr_step": "dict",
    "ex08_1_summary": "dict", "ex08_2_known_rmse": "float", "ex08_3_damping": "tuple",
    "ex09_1_precision": "float", "ex09_2_ndcg": "float", "ex09_3_popular": "list",
    "ex12_1_translate": "pyspark.ml:Pipeline", "ex12_2_scores": "tuple", "ex12_3_crossover": "int",
    "ex91_1_words": "pyspark.ml.classification:NaiveBayesModel",
    "ex91_2_monotone": "pyspark.ml.regression:IsotonicRegressionModel",
    "ex91_5_tune": "pyspark.ml.tuning:TrainValidationSplitModel",
}


def spoofed_cell(source: str, grade_id: str) -> str:
    """Every function the solution cell defines, returning a spoof (top-level names assigned: a spoof)."""
    claims = CLAIMS.get(grade_id, DATAFRAME)
    lines = [SPOOF.strip(), ""]
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines.append(f"def {node.name}(*args, **kwargs):\n    return _Spoof({claims!r})\n")
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        lines.append(f"{name.id} = _Spoof({claims!r})")
    return "\n".join(lines)


def test_spoof_defines_every_function_of_a_solution_cell():
    source = "import math\n\ndef first(df):\n    return df\n\ndef second(x, y=1):\n    return x\n\nANSWER = 3\n"
    namespace = {}
    exec(spoofed_cell(source, "ex06_1_read"), namespace)
    answer = namespace["first"](None)
    assert isinstance(answer, dict) and answer == {"anything": 1} and answer >= 0.85 and float(answer) == 0.5
    assert type(namespace["second"](1)).__name__ == "_Spoof" and type(namespace["ANSWER"]).__name__ == "_Spoof"
