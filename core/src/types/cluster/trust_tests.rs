use super::*;

fn colon_hex(bytes: impl Iterator<Item = u8>) -> String {
    bytes
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[test]
fn a_fingerprint_is_read_in_any_case_and_shown_in_upper_case() {
    let lower = colon_hex(0..32);
    let fp = Fingerprint::parse(&format!(" {lower} ")).expect("valid");
    assert_eq!(fp.to_string(), lower.to_uppercase());
    assert_eq!(Fingerprint::parse(&lower.to_uppercase()), Ok(fp));
    assert_eq!(fp.as_bytes()[31], 31);
}

#[test]
fn a_fingerprint_of_the_wrong_length_or_form_is_refused_by_name() {
    let good = colon_hex(0..32);
    for bad in [
        String::new(),
        "AB:CD".to_owned(),
        colon_hex(0..31),
        colon_hex(0..33),
        good.replace(':', ""),
        good.replacen("00", "0g", 1),
        good.replacen("00:", "000:", 1),
        format!("{good}:"),
    ] {
        let e = Fingerprint::parse(&bad).expect_err(&bad);
        assert_eq!(e.field(), "TLS fingerprint", "{bad:?}");
    }
}

#[test]
fn a_ca_certificate_keeps_only_its_certificate_sections() {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = params.self_signed(&key).expect("ca");
    let pasted = format!("{}\n{}", key.serialize_pem(), ca.pem());

    let parsed = CaCertificate::parse(&pasted).expect("a CA with a stray key");

    assert!(!parsed.as_pem().contains("PRIVATE KEY"));
    assert_eq!(
        CaCertificate::parse(parsed.as_pem()).expect("reparse"),
        parsed
    );
    let der = CertificateDer::from_pem_slice(parsed.as_pem().as_bytes()).expect("pem");
    assert_eq!(der.as_ref(), ca.der().as_ref());
    assert_eq!(format!("{parsed:?}"), "CaCertificate(1 certificate(s))");
}

#[test]
fn text_without_a_usable_certificate_is_refused_without_echoing_it() {
    let garbage =
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    for bad in ["", "hello", garbage] {
        let e = CaCertificate::parse(bad).expect_err(bad);
        assert_eq!(e.field(), "CA certificate");
        assert_eq!(e.value(), "(hidden)");
    }
}

#[test]
fn every_kind_of_trust_says_what_it_accepts() {
    let fp = Fingerprint::parse(&colon_hex(0..32)).expect("fp");
    assert!(ClusterTrust::Fingerprint(fp)
        .to_string()
        .contains("00:01:02"));
    assert!(ClusterTrust::Insecure
        .to_string()
        .contains("verification off"));
    assert!(ClusterTrust::SystemRoots.to_string().contains("public CAs"));
}
