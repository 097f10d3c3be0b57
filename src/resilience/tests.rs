use std::time::{Duration, Instant};

use super::*;

const MS: Duration = Duration::from_millis(1);

fn policy() -> RetryPolicy {
    RetryPolicy::default().backoff(100 * MS, 1000 * MS)
}

#[test]
fn delays_double_up_to_the_cap_with_equal_jitter() {
    let policy = policy();
    assert_eq!(policy.delay(1, 1.0), 100 * MS);
    assert_eq!(policy.delay(1, 0.0), 50 * MS);
    assert_eq!(policy.delay(2, 1.0), 200 * MS);
    assert_eq!(policy.delay(3, 1.0), 400 * MS);
    assert_eq!(policy.delay(4, 1.0), 800 * MS);
    assert_eq!(policy.delay(5, 1.0), 1000 * MS);
    assert_eq!(policy.delay(40, 0.0), 500 * MS);
    assert_eq!(policy.delay(u32::MAX, 2.0), 1000 * MS, "random is clamped");
}

#[test]
fn nothing_sent_is_repeated_on_any_verb_and_goes_to_the_other_host_at_once() {
    let policy = policy();
    for safe in [true, false] {
        assert_eq!(
            policy.decide(1, Outcome::NothingSent, safe, true, true, 1.0),
            Decision::Retry {
                delay: Duration::ZERO,
                other_host: true
            }
        );
        // Both hosts failed: wait, then try the other one again.
        assert_eq!(
            policy.decide(2, Outcome::NothingSent, safe, true, false, 1.0),
            Decision::Retry {
                delay: 200 * MS,
                other_host: true
            }
        );
        // No backup: wait, then the same host.
        assert_eq!(
            policy.decide(1, Outcome::NothingSent, safe, false, true, 1.0),
            Decision::Retry {
                delay: 100 * MS,
                other_host: false
            }
        );
    }
}

#[test]
fn a_sent_request_is_repeated_only_when_safe() {
    let policy = policy();
    for outcome in [Outcome::BrokeOff, Outcome::ServerError] {
        assert_eq!(
            policy.decide(1, outcome, false, true, true, 0.5),
            Decision::Stop(Stop::NotSafeToRepeat),
            "{outcome:?}"
        );
        assert_eq!(
            policy.decide(1, outcome, true, true, true, 1.0),
            Decision::Retry {
                delay: 100 * MS,
                other_host: false
            },
            "a sent request never moves host: {outcome:?}"
        );
    }
    assert_eq!(
        policy.decide(1, Outcome::Final, true, true, true, 0.5),
        Decision::Stop(Stop::Done)
    );
}

#[test]
fn the_budget_ends_retries() {
    let policy = policy().max_attempts(2);
    assert!(matches!(
        policy.decide(1, Outcome::ServerError, true, false, true, 0.5),
        Decision::Retry { .. }
    ));
    assert_eq!(
        policy.decide(2, Outcome::ServerError, true, false, true, 0.5),
        Decision::Stop(Stop::OutOfAttempts)
    );
    assert_eq!(
        policy.decide(2, Outcome::NothingSent, false, true, true, 0.5),
        Decision::Stop(Stop::OutOfAttempts)
    );
    assert_eq!(
        RetryPolicy::none().decide(1, Outcome::NothingSent, true, true, true, 0.5),
        Decision::Stop(Stop::OutOfAttempts)
    );
    assert_eq!(RetryPolicy::default().max_attempts(0).attempts(), 1);
}

#[test]
fn failover_moves_after_repeated_failures_and_probes_back() {
    let policy = FailoverPolicy::default()
        .after(3)
        .probe_interval(Duration::from_secs(30));
    let t0 = Instant::now();
    let mut failover = Failover::new();
    assert_eq!(failover.route(), Route::Primary);
    assert!(!failover.start_probe(t0), "no probe while on the primary");
    assert_eq!(failover.primary_unreachable(&policy, t0), Change::None);
    assert_eq!(failover.primary_unreachable(&policy, t0), Change::None);
    // An answer from the primary resets the count.
    assert_eq!(failover.primary_reachable(), Change::None);
    for _ in 0..2 {
        assert_eq!(failover.primary_unreachable(&policy, t0), Change::None);
    }
    assert_eq!(failover.primary_unreachable(&policy, t0), Change::ToBackup);
    assert_eq!(failover.route(), Route::Backup);
    assert_eq!(failover.on_backup_since(), Some(t0));
    assert_eq!(
        failover.primary_unreachable(&policy, t0),
        Change::None,
        "already there"
    );

    let later = |secs| t0 + Duration::from_secs(secs);
    assert!(!failover.start_probe(later(29)));
    assert!(failover.start_probe(later(30)));
    assert!(!failover.start_probe(later(31)), "one probe at a time");
    assert_eq!(failover.probe_done(false, &policy, later(31)), Change::None);
    assert_eq!(failover.route(), Route::Backup);
    assert!(!failover.start_probe(later(60)));
    assert!(failover.start_probe(later(61)));
    assert_eq!(
        failover.probe_done(true, &policy, later(62)),
        Change::ToPrimary
    );
    assert_eq!(failover.route(), Route::Primary);
    assert_eq!(failover.on_backup_since(), None);
}

#[test]
fn a_request_answered_by_the_primary_ends_the_failover() {
    let policy = FailoverPolicy::default().after(1);
    let mut failover = Failover::new();
    assert_eq!(
        failover.primary_unreachable(&policy, Instant::now()),
        Change::ToBackup
    );
    assert_eq!(failover.primary_reachable(), Change::ToPrimary);
    assert_eq!(FailoverPolicy::default().after(0).failures(), 1);
}

#[test]
fn a_rate_limit_is_repeated_on_any_verb_after_retry_after_or_the_backoff() {
    let policy = policy();
    let waited = Outcome::NotProcessed {
        retry_after: Some(Duration::from_secs(1)),
    };
    let unsaid = Outcome::NotProcessed { retry_after: None };
    for safe in [true, false] {
        assert_eq!(
            policy.decide(1, waited, safe, true, true, 0.0),
            Decision::Retry {
                delay: Duration::from_secs(1),
                other_host: false
            },
            "the host answered: same host, its own wait"
        );
        assert_eq!(
            policy.decide(2, unsaid, safe, true, true, 1.0),
            Decision::Retry {
                delay: 200 * MS,
                other_host: false
            }
        );
    }
    assert_eq!(
        policy.decide(3, waited, false, true, true, 0.5),
        Decision::Stop(Stop::OutOfAttempts)
    );
}

#[test]
fn answers_are_classified_by_status_and_code() {
    use http::{HeaderMap, HeaderValue, StatusCode};
    let none = HeaderMap::new();
    let mut after = HeaderMap::new();
    after.insert("retry-after", HeaderValue::from_static(" 2 "));
    let outcome = |status: u16, code: Option<&str>, headers: &HeaderMap| {
        retry::answer_outcome(StatusCode::from_u16(status).unwrap(), code, headers)
    };
    assert_eq!(
        outcome(429, Some("FREQUENCY_LIMITED"), &after),
        Outcome::NotProcessed {
            retry_after: Some(Duration::from_secs(2))
        }
    );
    assert_eq!(
        outcome(429, None, &none),
        Outcome::NotProcessed { retry_after: None },
        "429 is a rate limit whatever the body"
    );
    assert_eq!(
        outcome(200, Some("FREQ_LIMIT"), &none),
        Outcome::NotProcessed { retry_after: None },
        "APIv2 answers 200 with its err_code"
    );
    assert_eq!(
        outcome(503, Some("FREQUENCY_LIMITED"), &none),
        Outcome::ServerError
    );
    assert_eq!(outcome(400, Some("PARAM_ERROR"), &none), Outcome::Final);
    assert_eq!(outcome(200, None, &none), Outcome::Final);
    let mut dated = HeaderMap::new();
    dated.insert(
        "retry-after",
        HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
    );
    assert_eq!(
        retry::retry_after(&dated),
        None,
        "only seconds are honoured"
    );
}

#[test]
fn configuration_errors_are_never_sent_again() {
    use crate::error::ErrorKind;
    for kind in [
        ErrorKind::Config,
        ErrorKind::InvalidArgument,
        ErrorKind::MissingPathVariable,
    ] {
        assert_eq!(
            retry::error_outcome(kind, true, false, true),
            Outcome::Final,
            "{kind:?}"
        );
    }
    assert_eq!(
        retry::error_outcome(ErrorKind::Transport, true, false, false),
        Outcome::NothingSent
    );
    assert_eq!(
        retry::error_outcome(ErrorKind::Transport, true, true, false),
        Outcome::NotProcessed { retry_after: None }
    );
    assert_eq!(
        retry::error_outcome(ErrorKind::Timeout, false, false, false),
        Outcome::BrokeOff
    );
    assert_eq!(
        retry::error_outcome(ErrorKind::Transport, false, false, true),
        Outcome::BrokeOff
    );
    assert_eq!(
        retry::error_outcome(ErrorKind::Crypto, false, false, false),
        Outcome::Final
    );
}
