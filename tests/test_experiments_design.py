"""A study's design: validation of studies and arms, and the spec each arm trains."""

import pytest

from convlab.experiments import Arm, Study, StudyError, resolve_spec
from convlab.models import CNNSpec, ConvBlock, MLPSpec

DATASET = "fashion-mnist"


def test_study_and_arm_validation():
    with pytest.raises(StudyError, match="reference 'x' is not one of its arms"):
        Study("s", "?", "v", arms={"a": Arm()}, reference="x")
    with pytest.raises(StudyError, match="names no arm"):
        Study("s", "?", "v", arms={"a": Arm()}, reference="a", comparisons=(("a", "b"),))
    with pytest.raises(StudyError, match="no arms"):
        Study("s", "?", "v", arms={}, reference="a")
    with pytest.raises(StudyError, match="use a CNN"):
        resolve_spec(Arm(model=MLPSpec(), blocks={"kernel_size": 5}), DATASET)
    with pytest.raises(StudyError, match="Unknown model 'resnet'"):
        resolve_spec(Arm(model="resnet"), DATASET)
    deeper = resolve_spec(Arm(depth=3), DATASET)
    assert [b.filters for b in deeper.blocks] == [32, 64, 128]
    assert resolve_spec(Arm(width=0.25), DATASET).blocks[0].filters == 8
    assert isinstance(resolve_spec(Arm(model="baseline"), DATASET), MLPSpec)
    assert resolve_spec(Arm(), DATASET) == CNNSpec()
    assert resolve_spec(Arm(blocks={"pool": "avg"}), DATASET).blocks[1] == ConvBlock(64, pool="avg")
