use super::*;

#[test]
fn a_dns_name_is_kept_in_lower_case() {
    let host = Host::parse(" PVE1.School.Example ").expect("name");
    assert_eq!(host.as_str(), "pve1.school.example");
    assert_eq!(host.url_authority(), "pve1.school.example");
    assert!(
        Host::parse("pve_1.lab").is_ok(),
        "underscores occur in internal zones"
    );
}

#[test]
fn ip_addresses_are_kept_canonical_and_ipv6_gets_brackets_in_urls() {
    assert_eq!(
        Host::parse("10.0.0.2").expect("v4").url_authority(),
        "10.0.0.2"
    );
    let v6 = Host::parse("fd00:0:0::2").expect("v6");
    assert_eq!(v6.as_str(), "fd00::2");
    assert_eq!(v6.url_authority(), "[fd00::2]");
    assert_eq!(Host::parse("[fd00::2]").expect("bracketed"), v6);
}

#[test]
fn a_host_with_scheme_port_path_or_spaces_is_refused_by_name() {
    for bad in [
        "",
        "https://pve1",
        "pve1:8006",
        "pve1/api2",
        "pve 1",
        "-pve1",
        "pve1-.lab",
        "pve1..lab",
        "10.0.0.256",
        "[pve1]",
        "pvé.lab",
    ] {
        let e = Host::parse(bad).expect_err(bad);
        assert_eq!(e.field(), "cluster host", "{bad:?}");
    }
}

#[test]
fn a_host_name_may_have_253_characters_but_not_more() {
    let label = "a".repeat(63);
    let name = [label.as_str(); 4].join(".");
    let longest = &name[..253];
    assert!(Host::parse(longest).is_ok(), "{}", longest.len());
    assert!(Host::parse(&format!("{longest}b")).is_err());
    assert!(Host::parse(&format!("{}.lab", "a".repeat(64))).is_err());
}

#[test]
fn a_pve_user_is_a_name_and_a_realm() {
    let user = PveUser::parse("pvelab@pve").expect("user");
    assert_eq!((user.name(), user.realm()), ("pvelab", "pve"));
    let ad = PveUser::parse("anna@school.example").expect("AD realm");
    assert_eq!(ad.realm(), "school.example");
    let at_in_name = PveUser::parse("anna@home@pve").expect("the realm follows the last @");
    assert_eq!(
        (at_in_name.name(), at_in_name.realm()),
        ("anna@home", "pve")
    );
}

#[test]
fn a_pve_user_without_realm_or_with_a_bad_one_is_refused() {
    for bad in [
        "root",
        "@pam",
        "root@",
        "root@p",
        "root@1pam",
        "ro ot@pam",
        "ro:ot@pam",
        "ro/ot@pam",
    ] {
        let e = PveUser::parse(bad).expect_err(bad);
        assert_eq!(e.field(), "cluster user", "{bad:?}");
    }
    assert!(PveUser::parse(&format!("a@{}", "r".repeat(32))).is_ok());
    assert!(PveUser::parse(&format!("a@{}", "r".repeat(33))).is_err());
    assert!(PveUser::parse(&format!("{}@pve", "a".repeat(60))).is_ok());
    assert!(PveUser::parse(&format!("{}@pve", "a".repeat(61))).is_err());
}

#[test]
fn an_api_token_id_names_its_user_and_its_token() {
    let id = ApiTokenId::parse("pvelab@pve!bot-1").expect("id");
    assert_eq!(id.user(), &PveUser::parse("pvelab@pve").expect("user"));
    assert_eq!(id.token_name(), "bot-1");
    assert_eq!(id.to_string(), "pvelab@pve!bot-1");
}

#[test]
fn an_api_token_id_without_token_name_or_user_is_refused() {
    for bad in [
        "root@pam",
        "root@pam!",
        "root@pam!1bot",
        "root!bot",
        "root@pam!b",
        "rööt@pam!bot",
        "root@pam!bot=secret",
    ] {
        let e = ApiTokenId::parse(bad).expect_err(bad);
        assert_eq!(e.field(), "API token id", "{bad:?}");
    }
}

proptest::proptest! {
    #[test]
    fn any_accepted_host_gives_a_url_with_that_host(text in "(?s).{0,40}") {
        if let Ok(host) = Host::parse(&text) {
            let url = format!("https://{}:8006/", host.url_authority());
            proptest::prop_assert!(!url.contains(char::is_whitespace));
            proptest::prop_assert_eq!(Host::parse(host.as_str()), Ok(host.clone()));
        }
    }
}
