"Short runs give bit-identical metrics rows, parameters and optimiser state to those stored before the trainer was split."
import json, pytest, torch
from trainer_reference import CASES, REF, run_case

@pytest.fixture(scope='module')
def reference():
    n = torch.get_num_threads(); torch.set_num_threads(1) # the reference was written with one thread
    yield json.loads(REF.read_text())
    torch.set_num_threads(n)

@pytest.mark.parametrize('name', sorted(CASES))
def test_bit_identical(reference, name):
    assert run_case(name) == reference[name]

def test_bit_identical_after_resume(reference):
    assert run_case('curriculum_adaptive', resume_at=30) == reference['curriculum_adaptive']
