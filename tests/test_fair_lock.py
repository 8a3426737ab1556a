"""SQLite writers in one process are served in arrival order, not by luck.

(PostgreSQL queues row locks itself; the fair lock is SQLite's alone.)"""

import threading

from sqlalchemy import text

from storage.engine import create_all, fair_lock_for, make_engine, transaction
from storage.fair_lock import FairLock
from tests.support import wait_until


def test_waiting_threads_are_served_in_arrival_order():
    lock, order = FairLock(), []
    assert lock.acquire(timeout=1)

    def waiter(n):
        assert lock.acquire(timeout=5)
        order.append(n)
        lock.release()

    threads = []
    for n in range(8):
        threads.append(threading.Thread(target=waiter, args=(n,)))
        threads[-1].start()
        wait_until(lambda n=n: lock.waiting() == n + 1, "the next waiter in line")
    lock.release()
    for thread in threads:
        thread.join()
    assert order == list(range(8))
    assert lock.acquire(timeout=0)  # free again


def test_a_turn_that_does_not_come_in_time_leaves_the_queue():
    lock = FairLock()
    assert lock.acquire(timeout=1)
    result = []
    other = threading.Thread(target=lambda: result.append(lock.acquire(timeout=0.05)))
    other.start()
    other.join()
    assert result == [False] and lock.waiting() == 0
    lock.release()
    assert lock.acquire(timeout=0)


def test_sqlite_transactions_begin_in_the_order_their_threads_asked(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fair.db'}")
    create_all(engine)
    order = []

    def writer(n):
        with transaction(engine) as session:
            session.execute(text("SELECT 1"))  # the first statement begins the transaction
            order.append(n)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    with transaction(engine) as session:  # holds the write lock while the others queue
        session.execute(text("SELECT 1"))
        for n, thread in enumerate(threads):
            thread.start()  # each queued before the next starts: a clear arrival order
            wait_until(lambda n=n: fair_lock_for(engine).waiting() == n + 1, f"writer {n} queued")
    for thread in threads:
        thread.join()
    assert order == list(range(6))
    assert fair_lock_for(engine).acquire(timeout=0)  # every turn was given back
    fair_lock_for(engine).release()
    engine.dispose()


def test_a_single_command_is_not_starved_by_a_writer_that_commits_back_to_back(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fair.db'}")
    create_all(engine)
    committed, stop = [], threading.Event()

    def busy():  # begins again the moment it commits, as a busy worker does
        while not stop.is_set() and len(committed) < 400:
            with transaction(engine) as session:  # some work while it holds the lock
                for _ in range(50):
                    session.execute(text("SELECT 1"))
            committed.append(1)

    worker = threading.Thread(target=busy)
    worker.start()
    overtaken = []  # for each single command, the busy commits that went ahead of it
    for _ in range(5):
        wait_until(lambda: len(committed) >= 3, "three commits")
        before = len(committed)
        with transaction(engine) as session:
            session.execute(text("SELECT 1"))  # the first statement begins the transaction
            overtaken.append(len(committed) - before)
    stop.set()
    worker.join()
    engine.dispose()
    assert max(overtaken) <= 1, overtaken  # at most the one under way when it asked


def test_a_failed_transaction_gives_its_turn_back(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fair.db'}")
    create_all(engine)
    try:
        with transaction(engine) as session:
            session.execute(text("SELECT no_such_column FROM employee"))
    except Exception as error:
        assert "no_such_column" in str(error)
    else:
        raise AssertionError("the query should have failed")
    assert fair_lock_for(engine).acquire(timeout=0)
    fair_lock_for(engine).release()
    engine.dispose()
