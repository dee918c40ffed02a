use super::*;

#[test]
fn every_key_round_trips_through_its_name_and_has_a_description() {
    for k in SettingKey::ALL {
        assert_eq!(SettingKey::parse(k.name()), Ok(k));
        assert!(!k.description().is_empty());
    }
}

#[test]
fn every_default_is_a_valid_value_of_its_key_and_round_trips_as_text() {
    for k in SettingKey::ALL {
        let d = k.default_value();
        assert_eq!(k.parse_value(&d.to_string()), Ok(d), "{k}");
    }
}

#[test]
fn an_unknown_key_is_refused_with_the_list_of_known_ones() {
    let e = SettingKey::parse("sync.inventory").unwrap_err();
    assert_eq!(e.field(), "setting");
    assert_eq!(e.value(), "sync.inventory");
    for k in SettingKey::ALL {
        assert!(
            e.allowed().contains(k.name()),
            "{k} missing from {}",
            e.allowed()
        );
    }
}

#[test]
fn intervals_take_the_one_duration_syntax_within_their_range() {
    let k = SettingKey::InventoryInterval;
    let secs = |text: &str| match k.parse_value(text) {
        Ok(SettingValue::Interval(d)) => d.get().as_secs(),
        other => panic!("{text}: {other:?}"),
    };
    assert_eq!(secs("90s"), 90);
    assert_eq!(secs("5m"), 300);
    assert_eq!(secs("1h"), 3600);
    assert_eq!(secs("1m 30s"), 90);
    assert_eq!(secs(" 30s "), 30);
    for bad in [
        "9s",
        "2h",
        "-5m",
        "fast",
        "",
        "5x",
        "90",
        "1 month",
        "99999999999999999999h",
    ] {
        let e = k.parse_value(bad).unwrap_err();
        assert_eq!(e.field(), "sync.inventory_interval", "{bad}");
        assert!(e.allowed().contains("from 10s to 1h"), "{}", e.allowed());
    }
}

#[test]
fn an_interval_is_stored_as_its_canonical_duration_text() {
    let k = SettingKey::IsoInterval;
    let value = k.parse_value("90m").unwrap();
    assert_eq!(value.to_string(), "1h 30m");
    assert_eq!(k.parse_value(&value.to_string()), Ok(value));
}

#[test]
fn seven_days_mean_the_same_in_an_interval_and_a_token_lifetime() {
    let interval = match SettingKey::TemplateInterval.parse_value("7d").unwrap() {
        SettingValue::Interval(d) => d.get(),
        other => panic!("{other:?}"),
    };
    let lifetime = match SettingKey::DefaultTokenLifetime.parse_value("7d").unwrap() {
        SettingValue::Lifetime(TokenLifetime::For(d)) => d,
        other => panic!("{other:?}"),
    };
    assert_eq!(interval, lifetime);
    assert_eq!(interval, jiff::SignedDuration::from_hours(7 * 24));
}

#[test]
fn rate_limits_are_bounded_counts() {
    assert_eq!(
        SettingKey::JoinRateLimit.parse_value("1"),
        Ok(SettingValue::Count(1))
    );
    assert!(SettingKey::JoinRateLimit.parse_value("0").is_err());
    assert!(SettingKey::JoinRateLimit.parse_value("61").is_err());
    assert!(SettingKey::CommandRateLimit.parse_value("600").is_ok());
}

#[test]
fn booleans_accept_common_spellings() {
    let k = SettingKey::WaitlistEnabled;
    assert_eq!(k.parse_value("off"), Ok(SettingValue::Bool(false)));
    assert_eq!(k.parse_value("YES"), Ok(SettingValue::Bool(true)));
    assert!(k.parse_value("maybe").is_err());
}

#[test]
fn the_default_time_zone_must_be_a_known_zone() {
    let k = SettingKey::DefaultTimeZone;
    assert!(k.parse_value("Europe/Berlin").is_ok());
    let e = k.parse_value("Berlin").unwrap_err();
    assert_eq!(e.field(), "default_time_zone");
    assert!(e.allowed().contains("IANA"));
}

#[test]
fn missing_settings_take_their_defaults() {
    let (s, problems) = SystemSettings::from_stored([]);
    assert!(problems.is_empty());
    assert_eq!(s.inventory_interval(), Duration::from_secs(60));
    assert_eq!(s.ip_interval(), Duration::from_secs(300));
    assert_eq!(s.iso_interval(), Duration::from_secs(3600));
    assert_eq!(s.usage_interval(), Duration::from_secs(60));
    assert_eq!(s.template_interval(), Duration::from_secs(3600));
    assert_eq!(s.default_time_zone(), ClassTimeZone::utc());
    assert_eq!(s.join_rate_limit(), 5);
    assert_eq!(s.command_rate_limit(), 30);
    assert!(s.waitlist_enabled());
    assert_eq!(s.default_token_lifetime(), TokenLifetime::Never);
}

#[test]
fn stored_settings_override_defaults_and_bad_rows_are_reported_not_fatal() {
    let (s, problems) = SystemSettings::from_stored([
        ("sync.inventory_interval", "2m"),
        ("waitlist.enabled", "false"),
        ("default_time_zone", "Europe/Berlin"),
        ("token.default_lifetime", "7d"),
        ("rate_limit.join_per_minute", "999"),
        ("from.a.newer.version", "1"),
    ]);
    assert_eq!(s.inventory_interval(), Duration::from_secs(120));
    assert!(!s.waitlist_enabled());
    assert_eq!(s.default_time_zone().name(), "Europe/Berlin");
    assert_eq!(s.default_token_lifetime().to_string(), "1w");
    assert_eq!(
        s.join_rate_limit(),
        5,
        "an invalid stored value keeps the default"
    );
    let fields: Vec<&str> = problems.iter().map(|p| p.field()).collect();
    assert_eq!(fields, ["rate_limit.join_per_minute", "setting"]);
}

#[test]
fn a_set_value_is_read_back_typed() {
    let mut s = SystemSettings::default();
    let k = SettingKey::CommandRateLimit;
    assert_eq!(s.set(k, "12"), Ok(SettingValue::Count(12)));
    assert_eq!(s.command_rate_limit(), 12);
    assert_eq!(s.get(k).to_string(), "12");
    assert!(s.set(k, "0").is_err());
    assert_eq!(
        s.command_rate_limit(),
        12,
        "a refused value changes nothing"
    );
}
