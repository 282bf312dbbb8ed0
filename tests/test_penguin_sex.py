"""sparkcourse.penguin_sex.penguin_sex_features: lesson 03's data for predicting sex, as lesson 06 reuses it."""

from __future__ import annotations

from sparkcourse.features import slot_names
from sparkcourse.penguin_sex import penguin_sex_features


def test_penguin_sex_features_are_lesson_03s(spark):
    data = penguin_sex_features(spark)
    assert data.count() == 333  # every measurement and a known sex
    assert slot_names(data) == ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g",
                                "species_vec_Adelie", "species_vec_Chinstrap", "island_vec_Biscoe", "island_vec_Dream"]
    counts = {r.sex: (r.label, r["count"]) for r in data.groupBy("sex", "label").count().collect()}
    assert counts == {"female": (0.0, 165), "male": (1.0, 168)}
