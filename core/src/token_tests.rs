use super::*;

use std::collections::HashSet;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn a_generated_token_is_22_url_safe_characters_carrying_128_bits() {
    let t = JoinToken::generate();
    assert_eq!(t.expose().len(), 22);
    assert!(t
        .expose()
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(URL_SAFE_NO_PAD.decode(t.expose()).unwrap().len() * 8, 128);
}

#[test]
fn generated_tokens_do_not_repeat() {
    let seen: HashSet<String> = (0..1000)
        .map(|_| JoinToken::generate().expose().to_owned())
        .collect();
    assert_eq!(seen.len(), 1000);
}

#[test]
fn a_token_never_shows_in_debug_output() {
    let t = JoinToken::generate();
    let shown = format!("{t:?}");
    assert!(!shown.contains(t.expose()), "{shown}");
}

#[test]
fn a_pasted_token_with_spaces_around_it_still_parses() {
    let t = JoinToken::generate();
    let typed = JoinToken::parse(&format!("  {}\n", t.expose())).unwrap();
    assert_eq!(typed.expose(), t.expose());
}

#[test]
fn a_malformed_token_is_refused_without_echoing_it() {
    for bad in [
        "",
        "short",
        "AAAAAAAAAAAAAAAAAAAAA+",
        "AAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAA=",
        "ÄAAAAAAAAAAAAAAAAAAAA",
    ] {
        let e = JoinToken::parse(bad).unwrap_err();
        assert_eq!(e.field(), "join token");
        assert_eq!(e.value(), "(hidden)");
    }
}

#[test]
fn a_token_with_non_canonical_trailing_bits_is_refused() {
    // 22 characters carry 132 bits; the last 4 must be zero, so "B" (000001) cannot end a token.
    assert!(JoinToken::parse("AAAAAAAAAAAAAAAAAAAAAA").is_ok());
    assert!(JoinToken::parse("AAAAAAAAAAAAAAAAAAAAAB").is_err());
}

#[test]
fn a_hash_belongs_to_its_own_token_and_no_other() {
    let a = JoinToken::generate();
    let b = JoinToken::generate();
    let h = a.hash();
    assert_eq!(h, JoinToken::parse(a.expose()).unwrap().hash());
    assert_ne!(h, b.hash());
}

#[test]
fn a_hash_round_trips_through_its_stored_hex_form() {
    let h = JoinToken::generate().hash();
    let hex = h.to_hex();
    assert_eq!(hex.len(), 64);
    assert_eq!(JoinTokenHash::from_hex(&hex).unwrap(), h);
    assert!(JoinTokenHash::from_hex("abc").is_err());
    assert!(JoinTokenHash::from_hex(&"g".repeat(64)).is_err());
}

#[test]
fn the_hash_is_sha256_of_the_token_text() {
    let t = JoinToken::parse("AAAAAAAAAAAAAAAAAAAAAA").unwrap();
    // sha256("AAAAAAAAAAAAAAAAAAAAAA"), computed independently with coreutils sha256sum.
    assert_eq!(
        t.hash().to_hex(),
        "8a5bdb4cc15164126c6ef2668de9dd240d299ce6397a42c95a9411b93d080ed8"
    );
}

#[test]
fn a_token_expires_exactly_at_its_instant() {
    let at = ts("2026-11-26T12:00:00Z");
    let e = TokenExpiry::At(at);
    assert!(!e.is_expired(ts("2026-11-26T11:59:59Z")));
    assert!(e.is_expired(at));
    assert!(e.check(ts("2026-11-26T11:59:59Z")).is_ok());
    match e.check(ts("2026-11-27T00:00:00Z")) {
        Err(Error::TokenExpired { expired_at }) => assert_eq!(expired_at, at),
        other => panic!("expected TokenExpired, got {other:?}"),
    }
}

#[test]
fn a_token_that_never_expires_works_forever() {
    assert!(!TokenExpiry::Never.is_expired(Timestamp::MAX));
    assert_eq!(TokenExpiry::Never.expires_at(), None);
}

#[test]
fn the_stored_columns_rebuild_the_expiry() {
    let at = ts("2026-01-01T00:00:00Z");
    assert_eq!(
        TokenExpiry::from_stored(true, Some(at)),
        Ok(TokenExpiry::Never)
    );
    assert_eq!(
        TokenExpiry::from_stored(false, Some(at)),
        Ok(TokenExpiry::At(at))
    );
    assert!(TokenExpiry::from_stored(false, None).is_err());
}

#[test]
fn a_lifetime_in_days_expires_that_many_days_later() {
    let now = ts("2026-03-01T08:00:00Z");
    let l = TokenLifetime::parse("7d").unwrap();
    assert_eq!(
        l.expiry_from(now),
        TokenExpiry::At(ts("2026-03-08T08:00:00Z"))
    );
    assert_eq!(
        TokenLifetime::parse("never").unwrap().expiry_from(now),
        TokenExpiry::Never
    );
    assert_eq!(
        TokenLifetime::parse("90m").unwrap(),
        TokenLifetime::For(SignedDuration::from_mins(90))
    );
    assert_eq!(
        TokenLifetime::parse("2w").unwrap(),
        TokenLifetime::For(SignedDuration::from_hours(14 * 24))
    );
}

#[test]
fn a_lifetime_outside_one_minute_to_a_year_is_refused() {
    for bad in [
        "0m",
        "366d",
        "-1h",
        "12",
        "1 month",
        "h",
        "5y",
        "9999999999999999999w",
        "é",
    ] {
        let e = TokenLifetime::parse(bad).unwrap_err();
        assert_eq!(e.field(), "token lifetime", "{bad}");
    }
    assert!(TokenLifetime::parse("1m").is_ok());
    assert!(TokenLifetime::parse("365d").is_ok());
}

#[test]
fn a_lifetime_displays_in_its_shortest_exact_form_and_parses_back() {
    for (text, shown) in [
        ("14d", "2w"),
        ("48h", "2d"),
        ("90m", "1h 30m"),
        ("1h 30m", "1h 30m"),
        ("120m", "2h"),
        ("never", "never"),
    ] {
        let l = TokenLifetime::parse(text).unwrap();
        assert_eq!(l.to_string(), shown);
        assert_eq!(TokenLifetime::parse(shown).unwrap(), l);
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsing_any_text_never_panics_and_accepts_only_22_url_safe_characters(text in ".{0,40}") {
            if let Ok(t) = JoinToken::parse(&text) {
                prop_assert_eq!(t.expose().len(), 22);
                prop_assert!(t.expose().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            }
        }

        #[test]
        fn every_16_byte_value_round_trips_as_a_token(bytes in proptest::array::uniform16(any::<u8>())) {
            let text = URL_SAFE_NO_PAD.encode(bytes);
            let t = JoinToken::parse(&text).unwrap();
            prop_assert_eq!(t.hash(), JoinToken::parse(&text).unwrap().hash());
        }

        #[test]
        fn lifetimes_round_trip_through_their_text(mins in 1i64..=365 * 24 * 60) {
            let l = TokenLifetime::For(SignedDuration::from_mins(mins));
            prop_assert_eq!(TokenLifetime::parse(&l.to_string()), Ok(l));
        }
    }
}
