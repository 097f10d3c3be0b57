//! The first signatures of a process, off aws-lc's entropy work.
//!
//! aws-lc seeds its random generator from CPU jitter as well as the operating system when it
//! is built with the jitter source (its default, and what a project depending on this crate
//! gets): collecting the jitter costs about 25 ms at the first random number a process draws
//! from aws-lc, and an RSA signature draws some (aws-lc blinds every private-key operation).
//! aws-lc has no run-time switch for it.
//!
//! So the first signature of a process starts the seeding on a thread of its own (one random
//! byte from aws-lc, once per process), and the signatures made until it is done are ring's
//! (whose blinding draws from the operating system). RSASSA-PKCS1-v1_5 is deterministic: both
//! give the same bytes for the same key and message, so nothing that leaves the process
//! shows which one signed. Once the seeding is done, aws-lc signs as before.

use std::sync::atomic::{AtomicU8, Ordering};

use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

/// Nothing has asked for a signature yet: aws-lc's generator may be unseeded.
const COLD: u8 = 0;
/// The seeding thread runs.
const SEEDING: u8 = 1;
/// aws-lc's generator is seeded (or the seeding could not be moved off the caller's path).
const SEEDED: u8 = 2;

/// The process's seeding state.
static STATE: AtomicU8 = AtomicU8::new(COLD);

/// Whether aws-lc's generator is seeded; the first call starts seeding it on a thread of its
/// own and answers `false` until that thread is done.
fn aws_lc_seeded() -> bool {
    seeded_or_start(&STATE, || {
        std::thread::Builder::new()
            .name("wechatpay-seed-aws-lc".to_owned())
            .spawn(|| {
                yield_to_the_caller();
                // Whatever aws-lc answers, its next draw on any thread finds the work done
                // (or reports the failure itself).
                let _ = aws_lc_rs::rand::fill(&mut [0u8; 1]);
                STATE.store(SEEDED, Ordering::Release);
            })
            .is_ok()
    })
}

/// Lowers the seeding thread's priority (nice 10), so that on a busy core, or a process
/// pinned to one, the call that started it keeps about 90 % of the core instead of half;
/// on an idle core it runs at full speed. Not 19: a TLS handshake waits for the seeding,
/// and under a CPU-bound neighbour nice 19 would stretch 25 ms of work to over a second
/// (nice 10: about 250 ms at worst). Linux only (elsewhere, and if refused, nothing changes).
fn yield_to_the_caller() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10);
}

/// The state machine of [`aws_lc_seeded`], for any state cell: the first caller runs `start`
/// (which reports whether the seeding thread started); when it could not start, the state
/// becomes seeded, so that aws-lc signs (and seeds itself on the caller's path, as without
/// this module).
fn seeded_or_start(state: &AtomicU8, start: impl FnOnce() -> bool) -> bool {
    match state.compare_exchange(COLD, SEEDING, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            if start() {
                false
            } else {
                state.store(SEEDED, Ordering::Release);
                true
            }
        }
        Err(current) => current == SEEDED,
    }
}

/// ring's signature of `message` with the key in `pkcs8` while aws-lc's generator is being
/// seeded (the first call of the process starts that); `None` once it is seeded, and when
/// ring refuses the key or fails: then aws-lc signs.
pub(super) fn sign_while_seeding(pkcs8: &[u8], message: &[u8]) -> Option<Vec<u8>> {
    if aws_lc_seeded() {
        return None;
    }
    sign_with_ring(pkcs8, message)
}

/// ring's signature, whatever the seeding state. The key is parsed for the call (about
/// 60 µs, only while the seeding runs) and dropped with it: no second copy of the key stays.
pub(super) fn sign_with_ring(pkcs8: &[u8], message: &[u8]) -> Option<Vec<u8>> {
    let key = RsaKeyPair::from_pkcs8(pkcs8).ok()?;
    let mut signature = vec![0; key.public().modulus_len()];
    let random = ring::rand::SystemRandom::new();
    key.sign(&RSA_PKCS1_SHA256, &random, message, &mut signature)
        .ok()?;
    Some(signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_caller_starts_the_seeding_and_waits_for_nobody() {
        let state = AtomicU8::new(COLD);
        let mut started = 0;
        assert!(!seeded_or_start(&state, || {
            started += 1;
            true
        }));
        assert!(!seeded_or_start(&state, || unreachable!("started once")));
        assert_eq!(started, 1);
        state.store(SEEDED, Ordering::Release);
        assert!(seeded_or_start(&state, || unreachable!("seeded")));
    }

    #[test]
    fn without_a_thread_aws_lc_signs_at_once() {
        let state = AtomicU8::new(COLD);
        assert!(seeded_or_start(&state, || false));
        assert_eq!(state.load(Ordering::Acquire), SEEDED);
    }

    #[test]
    fn ring_refusing_a_key_leaves_the_signature_to_aws_lc() {
        assert_eq!(sign_with_ring(b"not a key", b"message"), None);
    }
}
