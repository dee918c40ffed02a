//! How likely is it to guess a join token within a day? Computed from the real constants (the
//! token's size as the parser and the generator define it, the join rate limit's default and
//! largest allowed value), so weakening any of them fails here. SECURITY.md quotes the figures.
//!
//! A guess is one `/join` attempt. Against one token that is uniformly one of `N` values, `a`
//! distinct guesses succeed with probability exactly `a / N`; against `T` live tokens (one per
//! class) at most `a * T / N` (union bound). `a` is the join rate limit per minute times the
//! 1440 minutes of a day, per account.

use std::collections::HashSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use pvelab_core::model::{JoinToken, SettingKey, SettingValue};

/// The goal: a day of guessing succeeds with a probability below this.
const GOAL: f64 = 1e-20;
/// A generous attack for the bound: this many accounts, each guessing at the limit...
const ACCOUNTS: f64 = 1_000.0;
/// ...against this many live tokens (classes) at once.
const LIVE_TOKENS: f64 = 10_000.0;
const MINUTES_PER_DAY: f64 = 1_440.0;

/// The URL-safe base64 alphabet tokens are written in.
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// log2 of the number of texts the parser accepts as tokens: every character of the token's
/// length may be any of the 64 except the last, which carries only the bits left over.
fn accepted_token_bits() -> f64 {
    let len = JoinToken::generate().expose().len();
    let prefix = "A".repeat(len - 1);
    let last = ALPHABET
        .iter()
        .filter(|&&c| JoinToken::parse(&format!("{prefix}{}", c as char)).is_ok())
        .count();
    assert!(last > 0, "no token of length {len} is accepted");
    // Every inner character is free: check each position takes every letter of the alphabet.
    for at in 0..len - 1 {
        for &c in ALPHABET {
            let mut text = prefix.clone().into_bytes();
            text[at] = c;
            text.push(b'A');
            let text = String::from_utf8(text).expect("ASCII");
            assert!(JoinToken::parse(&text).is_ok(), "{text} is refused");
        }
    }
    6.0 * (len - 1) as f64 + (last as f64).log2()
}

/// log2 of the number of tokens the generator makes: checks that every bit of the token's
/// bytes varies over a sample (a generator that fixed or repeated bits would fail) and returns
/// the number of bits.
fn generated_token_bits() -> f64 {
    const SAMPLE: usize = 2_000;
    let tokens: Vec<Vec<u8>> = (0..SAMPLE)
        .map(|_| {
            URL_SAFE_NO_PAD
                .decode(JoinToken::generate().expose())
                .expect("a generated token is base64")
        })
        .collect();
    let distinct: HashSet<&Vec<u8>> = tokens.iter().collect();
    assert_eq!(distinct.len(), SAMPLE, "generated tokens repeat");
    let bits = tokens[0].len() * 8;
    for bit in 0..bits {
        let ones = tokens
            .iter()
            .filter(|t| t[bit / 8] & (1 << (bit % 8)) != 0)
            .count();
        // Each bit is a fair coin: 2000 flips land outside 800..=1200 ones with a chance
        // below 1e-18, so below 1e-16 for all 128 bits together.
        assert!(
            (800..=1200).contains(&ones),
            "bit {bit} is 1 in {ones} of {SAMPLE} tokens"
        );
    }
    bits as f64
}

/// The join rate limit: its default and the largest value an adminer may set, per minute.
fn join_rate_limits() -> (f64, f64) {
    let key = SettingKey::JoinRateLimit;
    let SettingValue::Count(default) = key.default_value() else {
        panic!("the join rate limit is not a count");
    };
    let mut max = default;
    while key.parse_value(&(max + 1).to_string()).is_ok() {
        max += 1;
        assert!(max < 1_000_000, "the join rate limit has no upper bound");
    }
    (f64::from(default), f64::from(max))
}

#[test]
fn guessing_a_join_token_within_a_day_succeeds_with_probability_below_1e_20() {
    let parsed = accepted_token_bits();
    let generated = generated_token_bits();
    assert_eq!(parsed, generated, "the parser and the generator disagree");
    assert_eq!(generated, 128.0, "tokens are 128 bits");
    let tokens = generated.exp2();

    let (default, max) = join_rate_limits();
    assert_eq!(
        (default, max),
        (5.0, 60.0),
        "update the figures in SECURITY.md"
    );

    // One account at the default limit against one token.
    let one = default * MINUTES_PER_DAY / tokens;
    // A thousand accounts at the largest limit against ten thousand live tokens.
    let many = max * MINUTES_PER_DAY * ACCOUNTS * LIVE_TOKENS / tokens;
    // No limit at all: a million guesses a second against one token.
    let unthrottled = 1e6 * 86_400.0 / tokens;
    println!(
        "one account at {default}/min: {one:.1e}; {ACCOUNTS} accounts at {max}/min against \
         {LIVE_TOKENS} tokens: {many:.1e}; 1e6 guesses/s: {unthrottled:.1e}"
    );
    for (what, p) in [
        ("one account", one),
        ("many accounts", many),
        ("unthrottled", unthrottled),
    ] {
        assert!(p < GOAL, "{what}: {p:e} is not below {GOAL:e}");
    }
    // The figures SECURITY.md states; a change here must change them there.
    assert_eq!(format!("{one:.1e}"), "2.1e-35");
    assert_eq!(format!("{many:.1e}"), "2.5e-27");
    assert_eq!(format!("{unthrottled:.1e}"), "2.5e-28");
}
