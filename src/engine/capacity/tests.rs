//! Unit tests of the capacity model: account pool, reservations, FIFO waiters, memory and uid budget.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use super::*;

fn cap(account: u32, memory_budget_mb: u64, environments: u32) -> Arc<Capacity> {
    Arc::new(Capacity::new(Limits {
        account,
        min_unreserved: 1,
        memory_budget_mb,
        environments,
    }))
}

fn reserved(n: u32) -> Share {
    Share {
        reserved: Some(n),
        provisioned: 0,
    }
}

#[tokio::test]
async fn reserved_concurrency_caps_the_function_and_is_kept_from_others() {
    let c = cap(4, 1024, 10);
    c.set_share("a", reserved(2));
    let a1 = c.admit("a", Admission::Throttle).await.unwrap();
    let _a2 = c.admit("a", Admission::Throttle).await.unwrap();
    let e = c.admit("a", Admission::Throttle).await.err().unwrap();
    assert_eq!(e, ThrottleReason::Reserved);
    assert_eq!(
        e.wire(),
        "ReservedFunctionConcurrentInvocationLimitExceeded"
    );
    // b shares the 2 unreserved units; a's reservation is not available to it.
    let _b1 = c.admit("b", Admission::Throttle).await.unwrap();
    let _b2 = c.admit("b", Admission::Throttle).await.unwrap();
    let e = c.admit("b", Admission::Throttle).await.err().unwrap();
    assert_eq!(e, ThrottleReason::Account);
    assert_eq!(e.wire(), "ConcurrentInvocationLimitExceeded");
    drop(a1);
    assert!(c.admit("a", Admission::Throttle).await.is_ok());
    assert_eq!(c.in_flight("a"), 1);
}

#[tokio::test]
async fn reserved_zero_throttles_everything_even_waiters() {
    let c = cap(10, 1024, 10);
    c.set_share("off", reserved(0));
    assert_eq!(
        c.admit("off", Admission::Throttle).await.err(),
        Some(ThrottleReason::Reserved)
    );
    assert_eq!(
        c.admit("off", Admission::Wait).await.err(),
        Some(ThrottleReason::Reserved)
    );
}

#[tokio::test]
async fn waiters_are_served_first_in_first_out_and_sync_callers_do_not_barge() {
    let c = cap(1, 1024, 10);
    let held = c.admit("f", Admission::Throttle).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..3 {
        let c2 = Arc::clone(&c);
        let tx = tx.clone();
        tokio::spawn(async move {
            let p = c2.admit("g", Admission::Wait).await.unwrap();
            tx.send(i).unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
            drop(p);
        });
        // Let each waiter queue before the next one.
        while c.snapshot().waiting < i + 1 {
            tokio::task::yield_now().await;
        }
    }
    // A synchronous caller is throttled while others wait, even when a unit frees up later.
    assert_eq!(
        c.admit("h", Admission::Throttle).await.err(),
        Some(ThrottleReason::Account)
    );
    drop(held);
    let mut order = Vec::new();
    for _ in 0..3 {
        order.push(rx.recv().await.unwrap());
    }
    assert_eq!(order, vec![0, 1, 2]);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(c.snapshot().in_flight, 0);
    assert!(c.admit("h", Admission::Throttle).await.is_ok());
}

#[tokio::test]
async fn a_dropped_waiter_leaves_the_queue_and_gives_back_a_unit_handed_to_it() {
    let c = cap(1, 1024, 10);
    let held = c.admit("f", Admission::Throttle).await.unwrap();
    let waiting =
        tokio::time::timeout(Duration::from_millis(20), c.admit("f", Admission::Wait)).await;
    assert!(waiting.is_err());
    assert_eq!(c.snapshot().waiting, 0);
    // Queue a waiter, hand it the unit, and drop it before it runs.
    let fut = c.admit("f", Admission::Wait);
    let mut fut = Box::pin(fut);
    assert!(futures_util::poll!(&mut fut).is_pending());
    drop(held);
    drop(fut);
    let s = c.snapshot();
    assert_eq!((s.in_flight, s.waiting), (0, 0));
    assert!(c.admit("f", Admission::Throttle).await.is_ok());
}

#[tokio::test]
async fn provisioned_share_is_dedicated_and_spills_into_the_pool() {
    let c = cap(3, 1024, 10);
    c.set_share(
        "p",
        Share {
            reserved: None,
            provisioned: 2,
        },
    );
    assert_eq!(c.snapshot().unreserved_cap, 1);
    let _o = c.admit("other", Admission::Throttle).await.unwrap();
    // The pool is full, but p's two provisioned units are its own.
    let _p1 = c.admit("p", Admission::Throttle).await.unwrap();
    let _p2 = c.admit("p", Admission::Throttle).await.unwrap();
    assert_eq!(
        c.admit("p", Admission::Throttle).await.err(),
        Some(ThrottleReason::Account)
    );
}

#[tokio::test]
async fn a_waiter_moves_with_its_function_when_a_reservation_is_set() {
    let c = cap(4, 1024, 10);
    let held: Vec<_> =
        futures_util::future::join_all((0..4).map(|_| c.admit("x", Admission::Throttle)))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
    let c2 = Arc::clone(&c);
    let w = tokio::spawn(async move { c2.admit("y", Admission::Wait).await.is_ok() });
    while c.snapshot().waiting < 1 {
        tokio::task::yield_now().await;
    }
    // A reservation for y moves its waiter out of the (full) pool queue and serves it from
    // the reservation at once; x's running invocations go on.
    c.set_share("y", reserved(1));
    assert!(w.await.unwrap());
    assert_eq!(c.snapshot().unreserved_cap, 3);
    drop(held);
}

#[test]
fn environments_stay_within_memory_and_uids() {
    let c = cap(10, 256, 3);
    let a = c.try_reserve_env(128, None).unwrap();
    let _b = c.try_reserve_env(128, None).unwrap();
    let short = c.try_reserve_env(128, None).err().unwrap();
    assert_eq!((short.mb, short.envs, short.behind), (128, 0, false));
    assert_eq!(short.reason(), ThrottleReason::Memory);
    drop(a);
    assert_eq!(c.snapshot().env_mb, 128);
    let c = cap(10, 10_000, 1);
    let _a = c.try_reserve_env(128, None).unwrap();
    let short = c.try_reserve_env(128, None).err().unwrap();
    assert_eq!(short.reason(), ThrottleReason::Uids);
}

#[test]
fn a_queued_environment_waiter_goes_first() {
    let c = cap(10, 256, 10);
    let a = c.try_reserve_env(256, None).unwrap();
    let t = c.enqueue_env();
    drop(a);
    // Memory is free, but the ticket holder is first in line.
    assert!(c.try_reserve_env(128, None).err().unwrap().behind);
    let lease = c.try_reserve_env(256, Some(&t)).unwrap();
    assert_eq!(lease.mb(), 256);
    drop(t);
    drop(lease);
    assert!(c.try_reserve_env(128, None).is_ok());
}

/// The cost of admission on the warm path: one `admit` + permit drop, with a reservation
/// set and 200 other functions known, and the metrics recording it does, against a floor
/// measured in the same run (an uncontended mutex lock plus one short `String`, the least a
/// shared counter keyed by name costs). Run with
/// `cargo test --release --lib admission_cost -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn admission_cost() {
    let c = cap(1000, 1 << 20, 1000);
    for i in 0..200 {
        c.set_share(&format!("other-{i}"), reserved(1));
    }
    c.set_share("hot", reserved(10));
    let n = 200_000u32;
    let floor = {
        let m = std::sync::Mutex::new(0u64);
        let t = std::time::Instant::now();
        for i in 0..n {
            let key = std::hint::black_box("unreserved-fn").to_string();
            *m.lock().unwrap() += u64::from(i) + key.len() as u64;
        }
        std::hint::black_box(&m);
        t.elapsed().as_secs_f64() * 1e9 / f64::from(n)
    };
    println!("admission_cost floor: {floor:.0} ns per lock + String");
    for name in ["hot", "unreserved-fn"] {
        // warm-up
        for _ in 0..10_000 {
            drop(c.admit(name, Admission::Throttle).await.unwrap());
            c.env_idle();
        }
        let t = std::time::Instant::now();
        for _ in 0..n {
            drop(c.admit(name, Admission::Throttle).await.unwrap());
            c.env_idle();
        }
        let per = t.elapsed().as_secs_f64() * 1e9 / f64::from(n);
        println!(
            "admission_cost {name}: {per:.0} ns per admit+release ({:.1}× the floor)",
            per / floor
        );
    }
}

#[test]
fn a_killed_environments_room_counts_as_dying_until_its_lease_is_released() {
    let c = cap(4, 256, 10);
    let a = c.try_reserve_env(256, None).unwrap();
    let short = c.try_reserve_env(256, None).err().unwrap();
    assert!(!short.dying, "a live environment's room is not dying");
    let dying = a.dying();
    dying.mark();
    dying.mark();
    let short = c.try_reserve_env(256, None).err().unwrap();
    assert!(
        short.dying,
        "a killed environment's room is about to be free"
    );
    drop(a);
    let b = c.try_reserve_env(256, None).unwrap();
    // A kill after the release (the environment had already exited) counts nothing.
    dying.mark();
    let short = c.try_reserve_env(256, None).err().unwrap();
    assert!(!short.dying);
    drop(b);
    assert_eq!(c.snapshot().env_mb, 0);
}

#[tokio::test]
async fn a_release_wakes_whoever_waits_for_dying_room() {
    let c = cap(4, 256, 10);
    let a = c.try_reserve_env(256, None).unwrap();
    let released = c.released();
    tokio::pin!(released);
    released.as_mut().enable();
    drop(a);
    tokio::time::timeout(Duration::from_secs(1), released)
        .await
        .expect("the release was missed");
}
