"""judge.single_threaded: BLAS (and torch) limited to one thread for as long as any grading
thread is inside a block, and restored only when the last one leaves."""

import threading

import numpy as np  # noqa: F401  (loads the BLAS that threadpoolctl controls)
import torch
from threadpoolctl import threadpool_info

from neurograde.judge import single_threaded


def _blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info()}


def test_overlapping_blocks_of_two_threads_keep_one_thread_until_the_last_leaves():
    from threadpoolctl import threadpool_limits
    torch_before = torch.get_num_threads()
    with threadpool_limits(limits=2):  # an outside setting the blocks must give back
        torch.set_num_threads(2)
        try:
            assert _blas_threads() == {2}
            entered, release_first, first_left = (threading.Event() for _ in range(3))
            seen = {}

            def first():
                with single_threaded():
                    entered.set()
                    release_first.wait(10)
                first_left.set()

            thread = threading.Thread(target=first)
            thread.start()
            assert entered.wait(10)
            with single_threaded():
                release_first.set()
                assert first_left.wait(10)
                # The first thread's block ended while this one is still inside.
                seen["blas"], seen["torch"] = _blas_threads(), torch.get_num_threads()
            thread.join(10)
            assert seen == {"blas": {1}, "torch": 1}
            assert _blas_threads() == {2} and torch.get_num_threads() == 2
        finally:
            torch.set_num_threads(torch_before)


def test_a_block_left_by_an_exception_restores_the_limits():
    before = _blas_threads()
    try:
        with single_threaded():
            assert _blas_threads() == {1}
            raise KeyError("x")
    except KeyError:
        pass
    assert _blas_threads() == before
