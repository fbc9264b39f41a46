"""convlab.hardware: the machine named as a timing needs it."""

import os

from convlab import hardware


def test_machine_description_names_the_units_that_change_timings(monkeypatch):
    monkeypatch.setattr(hardware, "cpu_model", lambda: "Some CPU")
    monkeypatch.setattr(hardware, "cpu_flags", lambda: "fpu avx2 avx512f amx_bf16 amx_tile")
    assert (
        hardware.machine_description() == f"Some CPU (AVX-512, AMX bfloat16), {os.cpu_count()} CPUs"
    )
    monkeypatch.setattr(hardware, "cpu_flags", lambda: "fpu avx2")
    assert hardware.machine_description() == f"Some CPU (AVX2), {os.cpu_count()} CPUs"
    monkeypatch.setattr(hardware, "cpu_flags", lambda: "")
    assert hardware.machine_description() == f"Some CPU, {os.cpu_count()} CPUs"


def test_this_machine_is_described():
    assert hardware.cpu_model() in hardware.machine_description()
