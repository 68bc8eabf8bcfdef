"""The waits between attempts of a CKAN step (``kehoach.publish.ckan_client.Backoff``)."""

from kehoach.publish.ckan_client import Backoff, RetryPolicy


def test_waits_double_up_to_the_cap():
    backoff = Backoff(RetryPolicy(initial=0.5, cap=4.0, deadline=3600))
    assert [backoff.next_wait() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_no_wait_once_the_next_one_would_pass_the_deadline():
    backoff = Backoff(RetryPolicy(initial=2.0, cap=8.0, deadline=1.0))
    assert backoff.next_wait() is None
    assert backoff.failing_for() < 1.0
